/** Shapes of the preview endpoints (simulate, contract, tests): the definitions the engine answers with. */
export type { ContractEntry } from '../../../shared/compile/contract.ts';
export type { SampleRequest, SimulationResult, TestVerdict, TraceStep, UpstreamMock } from '../../../shared/schema/preview.ts';
