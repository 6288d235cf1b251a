import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDuckDbEvidence } from '../../../engine/evidence/duckdb-store.ts';
import { evidenceStoreContract } from './store-contract.ts';

evidenceStoreContract('DuckDB', () => openDuckDbEvidence(join(mkdtempSync(join(tmpdir(), 'sluice-evidence-')), 'evidence.duckdb')));
