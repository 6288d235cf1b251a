export { validateWorkflow, validateWorkflowSliced, documentSizeProblems, documentSizeProblemsSliced, expressionSyntaxError, topologicalOrder, PROBLEM_CODES, type ProblemCode, type ValidationProblem, type ValidationResult, type ValidGraph, type GraphNode, type ValidateOptions } from './validate.ts';
export { toMachineConfig, toMachineConfigSliced, FINISH_STATE, FAULT_STATE, raiseState, RUN_NODE_ACTOR, TAKE_PORT_ACTION, type WorkflowMachineConfig, type FinalStateMeta, type NodeStateConfig, type FinalStateConfig } from './machine.ts';
export { routeShape, clashingMethods, reservedPrefixOf, RESERVED_PREFIXES } from './route.ts';
export { diffWorkflows, diffWorkflowsSliced, type WorkflowDiff, type NodeChange } from './diff.ts';
export { errorContract, errorContractSliced, diffContracts, MAX_CONTRACT_PATH, type ContractEntry, type ContractStep, type ContractOptions } from './contract.ts';
export { runAtOnce, runPaced, SLICE_UNITS, type Sliced } from './slices.ts';
