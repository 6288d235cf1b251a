import { describe, expect, it } from 'vitest';
import { llmRequestOf, rewriteLlmTexts } from '../../../../engine/kinds/support/llm-request.ts';

/** Freezes a parsed body all the way down, as the gateway's request context may be shared. */
function frozen<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) frozen(inner);
    Object.freeze(value);
  }
  return value;
}

describe('llmRequestOf', () => {
  it('reads an OpenAI chat body: string content and text parts, in order', () => {
    const body = {
      model: 'gpt-4o-mini',
      stream: true,
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: [{ type: 'text', text: 'Describe this:' }, { type: 'image_url', image_url: { url: 'https://x.test/a.png' } }, { type: 'text', text: 'briefly' }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 't1', content: 'tool says hi' },
      ],
    };
    expect(llmRequestOf(body)).toEqual({ api: 'openai-chat', model: 'gpt-4o-mini', stream: true, texts: ['You are terse.', 'Describe this:', 'briefly', 'tool says hi'] });
  });

  it('reads an Anthropic messages body: system, text blocks and a tool_result one level down', () => {
    const body = {
      model: 'claude-sonnet-4-5',
      max_tokens: 1024,
      system: [{ type: 'text', text: 'Be kind.' }],
      messages: [
        { role: 'user', content: 'Hello' },
        { role: 'assistant', content: [{ type: 'text', text: 'Calling.' }, { type: 'tool_use', id: 'u1', name: 'lookup', input: { q: 'secret' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'u1', content: [{ type: 'text', text: 'found it' }] }, { type: 'tool_result', tool_use_id: 'u2', content: 'plain result' }] },
      ],
    };
    expect(llmRequestOf(body)).toEqual({ api: 'anthropic-messages', model: 'claude-sonnet-4-5', stream: false, texts: ['Be kind.', 'Hello', 'Calling.', 'found it', 'plain result'] });
    expect(llmRequestOf({ model: 'claude', system: 'S', messages: [] })).toMatchObject({ api: 'anthropic-messages', texts: ['S'] });
  });

  it('reads completions prompts and embeddings inputs, skipping token arrays', () => {
    expect(llmRequestOf({ model: 'gpt-3.5-turbo-instruct', prompt: 'Say this' })).toEqual({ api: 'openai-completions', model: 'gpt-3.5-turbo-instruct', stream: false, texts: ['Say this'] });
    expect(llmRequestOf({ prompt: ['one', 2, 'three', [4, 5]] }).texts).toEqual(['one', 'three']);
    expect(llmRequestOf({ model: 'text-embedding-3-small', input: ['a', 'b'] })).toEqual({ api: 'openai-embeddings', model: 'text-embedding-3-small', stream: false, texts: ['a', 'b'] });
    expect(llmRequestOf({ input: [[1, 2, 3]] })).toMatchObject({ api: 'openai-embeddings', texts: [] });
  });

  it('reads a Responses API body: instructions, input messages, input_text and output_text parts, tool outputs', () => {
    const body = {
      model: 'gpt-4.1',
      stream: true,
      instructions: 'Be brief.',
      input: [
        'a bare string item',
        { role: 'user', content: 'Hello' },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Hi!' }] },
        { role: 'user', content: [{ type: 'input_text', text: 'Look' }, { type: 'input_image', image_url: 'https://img.example/a.png' }] },
        { type: 'function_call', call_id: 'c', name: 'f', arguments: '{"secret":"not read"}' },
        { type: 'function_call_output', call_id: 'c', output: '42 orders' },
        { type: 'reasoning', summary: [{ type: 'summary_text', text: 'not read' }] },
      ],
    };
    expect(llmRequestOf(body)).toEqual({ api: 'openai-responses', model: 'gpt-4.1', stream: true, texts: ['Be brief.', 'a bare string item', 'Hello', 'Hi!', 'Look', '42 orders'] });
    // a string input with instructions is the Responses API; without, it reads as embeddings (the texts are the same)
    expect(llmRequestOf({ model: 'gpt-4.1', input: 'Hi', instructions: 'x' })).toMatchObject({ api: 'openai-responses', texts: ['x', 'Hi'] });
    expect(llmRequestOf({ model: 'gpt-4.1', input: 'Hi' })).toMatchObject({ api: 'openai-embeddings', texts: ['Hi'] });
  });

  it('answers nothing for bodies that are no LLM request', () => {
    const none = { api: undefined, model: undefined, stream: false, texts: [] };
    for (const body of [undefined, null, 'text', 42, [{ messages: [] }], {}, { model: 'gpt-4o' }]) expect(llmRequestOf(body)).toMatchObject({ ...none, model: (body as { model?: string } | undefined)?.model });
    expect(llmRequestOf(Buffer.from('{"messages":[]}'))).toEqual(none);
  });

  it('skips hostile shapes rather than follow them', () => {
    let deep: unknown = { type: 'text', text: 'deepest' };
    for (let i = 0; i < 10_000; i++) deep = [deep];
    let nestedResult: unknown = 'too deep';
    for (let i = 0; i < 100; i++) nestedResult = [{ type: 'tool_result', content: nestedResult }];
    const body = {
      model: { toString: 'gpt' },
      stream: 'true',
      messages: [
        { role: 'user', content: 12345 },
        { role: 'user', content: { type: 'text', text: 'an object, not parts' } },
        { role: 'user', content: [null, 7, 'bare string part', { type: 'text', text: 99 }, { type: 'TEXT', text: 'wrong case' }, deep] },
        { role: 'user', content: [{ type: 'tool_result', content: nestedResult }] },
        null,
        'a string message',
        { role: 'user', content: 'kept' },
      ],
    };
    expect(llmRequestOf(body)).toEqual({ api: 'anthropic-messages', model: undefined, stream: false, texts: ['kept'] }); // a tool_result block: Anthropic's
  });

  it('reads a body of 100 000 messages in one pass', () => {
    const messages = Array.from({ length: 100_000 }, (_, i) => ({ role: 'user', content: `m${i}` }));
    const { texts } = llmRequestOf({ messages });
    expect(texts).toHaveLength(100_000);
    expect(texts[99_999]).toBe('m99999');
  });
});

describe('rewriteLlmTexts', () => {
  const redact = (text: string) => text.replaceAll(/\S+@\S+/g, '[email]');

  it('rewrites every text it reads, keeping the rest of the shape, without touching the original', () => {
    const body = frozen({
      model: 'claude',
      system: 'mail ops@example.com',
      metadata: { user_id: 'u@example.com' },
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'me: a@b.io', cache_control: { type: 'ephemeral' } }, { type: 'image', source: { type: 'base64', data: 'x@y' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'u', content: [{ type: 'text', text: 'c@d.io found' }] }] },
        { role: 'assistant', content: 'no mail here' },
      ],
    });
    const rewritten = rewriteLlmTexts(body, redact) as typeof body;
    expect(rewritten).toEqual({
      model: 'claude',
      system: 'mail [email]',
      metadata: { user_id: 'u@example.com' }, // not a text the model reads
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'me: [email]', cache_control: { type: 'ephemeral' } }, { type: 'image', source: { type: 'base64', data: 'x@y' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'u', content: [{ type: 'text', text: '[email] found' }] }] },
        { role: 'assistant', content: 'no mail here' },
      ],
    });
    expect(rewritten.messages[2]).toBe(body.messages[2]); // unchanged parts are shared, not copied
    expect(body.system).toBe('mail ops@example.com');
  });

  it('rewrites prompts and inputs, and answers the same body when nothing changed', () => {
    expect(rewriteLlmTexts({ prompt: ['x a@b.io', 3] }, redact)).toEqual({ prompt: ['x [email]', 3] });
    expect(rewriteLlmTexts({ input: 'a@b.io' }, redact)).toEqual({ input: '[email]' });
    const clean = frozen({ messages: [{ role: 'user', content: 'nothing to hide' }] });
    expect(rewriteLlmTexts(clean, redact)).toBe(clean);
    expect(rewriteLlmTexts('a@b.io', redact)).toBe('a@b.io');
  });
});
