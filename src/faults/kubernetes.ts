import { isProcessName, type KubernetesControl, type ProcessName, type Stack } from '../targets/stack.ts';
import { CONTAINER_FAULT_TARGETS } from './container.ts';

/** Faults only a Kubernetes target gives: the targets they run on (checked before anything starts). */
export const KUBERNETES_TARGETS = ['kind'] as const;

/** Components a Kubernetes fault may act on: not Toxiproxy, the injector of every other fault. */
export const KUBERNETES_FAULT_TARGETS = CONTAINER_FAULT_TARGETS;

/** The stack's Kubernetes control and the component, or an error that says what the fault needs. */
export function kubernetesOf(stack: Stack, fault: string, name: string): { k: KubernetesControl; name: ProcessName } {
  if (!stack.kubernetes) throw new Error(`fault '${fault}' acts on Kubernetes objects and the ${stack.target} target has none: use --target ${KUBERNETES_TARGETS.join(' or ')}`);
  if (!isProcessName(name)) throw new Error(`fault '${fault}': unknown component '${name}'`);
  return { k: stack.kubernetes, name };
}
