import { isProcessName, type ContainerControl, type ProcessName, type Stack } from '../targets/stack.ts';

/** Faults only a container target gives: the targets they run on (checked before anything starts). */
export const CONTAINER_TARGETS = ['docker'] as const;

/** Components a container fault may act on: not Toxiproxy, the injector of every other fault. */
export const CONTAINER_FAULT_TARGETS = ['postgres', 'seaweedfs', 'mlflow', 'mlflow-serving', 'kserve'] as const;

/** The stack's container control and the component, or an error that says what the fault needs. */
export function containerOf(stack: Stack, fault: string, name: string): { c: ContainerControl; name: ProcessName } {
  if (!stack.containers) throw new Error(`fault '${fault}' acts on a container and the ${stack.target} target runs none: use --target ${CONTAINER_TARGETS.join(' or ')}`);
  if (!isProcessName(name)) throw new Error(`fault '${fault}': unknown component '${name}'`);
  return { c: stack.containers, name };
}
