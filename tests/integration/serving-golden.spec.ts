import { test, expect } from '../../fixtures/stack.ts';
import { http } from '../../src/util/http.ts';
import { predictKserveV1, predictKserveV2, predictMlflow } from '../../src/workloads/predict.ts';

test.describe('both servers serve the same model file', () => {
  test('MLflow serving, KServe V1 and KServe V2 all return the golden outputs', async ({ stack }) => {
    const { columns, inputs, outputs } = stack.reference.golden;
    expect(new Set(outputs).size, 'golden set covers both classes').toBe(2);

    const mlflow = await predictMlflow(stack.endpoints.mlflowServing, columns, inputs);
    const v1 = await predictKserveV1(stack.endpoints.kserve, inputs);
    const v2 = await predictKserveV2(stack.endpoints.kserve, inputs);

    expect(mlflow.http.status, `MLflow /invocations: ${mlflow.http.body.slice(0, 300)}`).toBe(200);
    expect(mlflow.predictions, 'MLflow serving vs golden').toEqual(outputs);
    expect(v1.predictions, `KServe V1 vs golden (${v1.http.status} ${v1.http.body.slice(0, 200)})`).toEqual(outputs);
    expect(v2.predictions, `KServe V2 vs golden (${v2.http.status} ${v2.http.body.slice(0, 200)})`).toEqual(outputs);
  });

  test('KServe reports the model ready, and a malformed request is a 4xx naming the problem', async ({ stack }) => {
    const ready = await http(`${stack.endpoints.kserve}/v2/models/ref/ready`);
    expect(ready.status, `model readiness: ${ready.body}`).toBe(200);
    const bad = await predictKserveV1(stack.endpoints.kserve, [[1, 2, 3]]);
    expect(bad.http.status, 'wrong feature count').toBe(400);
    expect(bad.http.body).toContain('6 features');
  });
});
