import { KfpPipelineProbe } from './kfp-pipeline.ts';
import { MlflowHealthProbe } from './mlflow-health.ts';
import { MlflowRegistryProbe } from './mlflow-registry.ts';
import { MlflowTrainingProbe } from './mlflow-training.ts';
import { KservePredictProbe, MlflowServingProbe } from './serving.ts';
import type { Probe } from './types.ts';

/** Workload names a scenario may list, each a fresh probe per experiment. */
export const WORKLOADS = {
  'mlflow.training': () => new MlflowTrainingProbe(),
  'mlflow.registry': () => new MlflowRegistryProbe(),
  'mlflow.serving': () => new MlflowServingProbe(),
  'mlflow.health': () => new MlflowHealthProbe(),
  'kserve.predict': () => new KservePredictProbe(),
  'kfp.pipeline': () => new KfpPipelineProbe(),
} satisfies Record<string, () => Probe>;

export type WorkloadName = keyof typeof WORKLOADS;
export const isWorkload = (s: string): s is WorkloadName => s in WORKLOADS;
