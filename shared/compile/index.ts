export { validateWorkflow, validateWorkflowSliced, documentSizeProblemsSliced, expressionSyntaxError, PROBLEM_CODES, type ProblemCode, type ValidationProblem, type ValidationResult, type ValidGraph, type ValidateOptions } from './validate.ts';
export { toMachineConfig, toMachineConfigSliced, FINISH_STATE, FAULT_STATE, raiseState, RUN_NODE_ACTOR, TAKE_PORT_ACTION, type WorkflowMachineConfig, type FinalStateMeta, type NodeStateConfig } from './machine.ts';
export { routeShape, clashingMethods, reservedPrefixOf, RESERVED_PREFIXES } from './route.ts';
export { diffWorkflowsSliced, changeWords, MAX_VALUE_TEXT, type WorkflowDiff } from './diff.ts';
export { errorContract, errorContractSliced, diffContracts, MAX_CONTRACT_PATH, type ContractEntry } from './contract.ts';
export { contractMarkdown, entryWords, nodeName, sortedEntries } from './contract-words.ts';
export { runPaced } from './slices.ts';
export { storedCredentialProblems, looksLikeCredential, apiKeySources, CREDENTIAL_HEADERS } from './credentials.ts';
export { article, issueProblems } from './messages.ts';
