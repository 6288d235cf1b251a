import { z } from 'zod';

/** RFC 9457 problem details, as Sluice answers them. */
export const problemDetailsSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string(),
    traceId: z.string(),
  })
  .catchall(z.unknown());


export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
