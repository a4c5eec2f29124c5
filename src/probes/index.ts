import { BadInputProbe } from './bad-input.ts';
import { KfpPipelineProbe } from './kfp-pipeline.ts';
import { KservePollProbe } from './kserve-poll.ts';
import { KserveProtocolSkewProbe } from './kserve-protocol-skew.ts';
import { MlflowHealthProbe } from './mlflow-health.ts';
import { MlflowPollProbe } from './mlflow-poll.ts';
import { MlflowRegistryProbe } from './mlflow-registry.ts';
import { MlflowUiProbe } from './mlflow-ui.ts';
import { MlflowTrainingProbe } from './mlflow-training.ts';
import { MlflowAsyncTrainingProbe } from './mlflow-training-async.ts';
import { KservePredictProbe, MlflowServingProbe } from './serving.ts';
import type { Probe } from './types.ts';

/** Workload names a scenario may list, each a fresh probe per experiment. */
export const WORKLOADS = {
  'mlflow.training': () => new MlflowTrainingProbe(),
  'mlflow.metrics': () => new MlflowTrainingProbe(false),
  'mlflow.training-async': () => new MlflowAsyncTrainingProbe(),
  'mlflow.registry': () => new MlflowRegistryProbe(),
  'mlflow.serving': () => new MlflowServingProbe(),
  'mlflow.health': () => new MlflowHealthProbe(),
  'kserve.predict': () => new KservePredictProbe(),
  'kserve.poll': () => new KservePollProbe(),
  'mlflow.poll': () => new MlflowPollProbe(),
  'kfp.pipeline': () => new KfpPipelineProbe(),
  'mlflow.ui': () => new MlflowUiProbe(),
  'serving.bad-input': () => new BadInputProbe(),
  'kserve.protocol-skew': () => new KserveProtocolSkewProbe(),
} satisfies Record<string, () => Probe>;

export type WorkloadName = keyof typeof WORKLOADS;
export const isWorkload = (s: string): s is WorkloadName => s in WORKLOADS;
