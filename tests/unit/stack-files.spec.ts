import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { test, expect } from '@playwright/test';
import { removeStackFiles } from '../../src/targets/local/reaper.ts';
import { seaweedGrpcSockets, seaweedPorts } from '../../src/targets/local/seaweedfs.ts';

test.describe('files a local stack makes outside its work dir', () => {
  test("SeaweedFS's gRPC sockets are named as weed names them, one per service", () => {
    const files = seaweedGrpcSockets(seaweedPorts([1, 2, 3, 4, 5, 6, 7, 8]));
    expect(files).toEqual(['/tmp/seaweedfs-master-grpc-4.sock', '/tmp/seaweedfs-volume-grpc-6.sock', '/tmp/seaweedfs-filer-grpc-8.sock', '/tmp/seaweedfs-s3-grpc-2.sock']);
  });

  test('recorded sockets are removed; a recorded path of any other shape never is', () => {
    const socket = `/tmp/seaweedfs-filer-grpc-${60_000 + Math.floor(Math.random() * 5_000)}.sock`;
    const dir = mkdtempSync(join(tmpdir(), 'stack-files-'));
    const other = join(dir, 'not-ours.sock');
    try {
      writeFileSync(socket, '');
      writeFileSync(other, '');
      expect(removeStackFiles([socket, other, '/etc/hostname'])).toEqual([socket]);
      expect(existsSync(socket)).toBe(false);
      expect(existsSync(other)).toBe(true);
      expect(removeStackFiles(undefined)).toEqual([]);
    } finally {
      rmSync(socket, { force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
