import { s3Admin } from '../targets/local/seaweedfs.ts';
import type { FaultModule } from './types.ts';

const FILLER = 'chaos-storage-quota-filler.bin';

/**
 * The object store refuses writes as full: every bucket (MLflow's artifacts, the pipelines'
 * outputs) gets a quota, a filler object takes it over the limit, and SeaweedFS's quota
 * enforcement makes the bucket read-only.
 */
export const storageQuota: FaultModule = {
  type: 'storage-quota',
  on: 'process',
  targets: ['seaweedfs'],
  description: 'every bucket is over its quota and refuses writes',
  params: { quotaMB: { doc: 'the bucket quota, MiB (a filler one MiB larger is written)', min: 1, max: 1024, default: 1 } },
  async inject(stack, _target, p) {
    const store = stack.objectStore;
    const quota = p.quotaMB ?? 1;
    const buckets = [store.artifactBucket, store.pipelineBucket];
    for (const bucket of buckets) {
      await s3Admin(store, ['put-filler', bucket, FILLER, String(quota + 1)], `write the quota filler object into ${bucket}`);
      await store.setQuota(bucket, quota);
    }
    return {
      undo: async () => {
        for (const bucket of buckets) {
          await store.setQuota(bucket, null);
          await s3Admin(store, ['delete', bucket, FILLER], `delete the quota filler object from ${bucket}`);
        }
      },
      persisted: { kind: 'none' },
    };
  },
};
