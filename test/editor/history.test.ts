import { describe, expect, it } from 'vitest';
import { canRedo, canUndo, commit, createHistory, HISTORY_LIMIT, redo, seal, undo } from '../../editor/src/history/history.ts';

describe('undo/redo history', () => {
  it('undoes and redoes every step', () => {
    let h = createHistory('a');
    h = commit(h, 'b');
    h = commit(h, 'c');
    expect(h.present).toBe('c');
    h = undo(h);
    expect(h.present).toBe('b');
    h = undo(h);
    expect([h.present, canUndo(h), canRedo(h)]).toEqual(['a', false, true]);
    expect(undo(h)).toBe(h);
    h = redo(redo(h));
    expect([h.present, canRedo(h)]).toEqual(['c', false]);
  });

  it('groups typing in one field into one step, until sealed or another change comes', () => {
    let h = createHistory('');
    for (const text of ['h', 'he', 'hel', 'hello']) h = commit(h, text, 'node:config.url');
    expect(h.past).toEqual(['']);
    h = seal(h);
    h = commit(h, 'hello!', 'node:config.url');
    expect(h.past).toEqual(['', 'hello']);
    h = commit(h, 'x', 'other');
    h = commit(h, 'xy', 'node:config.url');
    expect(undo(h).present).toBe('x');
    expect(undo(undo(undo(h))).present).toBe('hello');
  });

  it('a new step after undo drops the redo branch', () => {
    let h = commit(commit(createHistory(1), 2), 3);
    h = commit(undo(h), 4);
    expect([h.past, h.present, h.future]).toEqual([[1, 2], 4, []]);
  });

  it('ignores a change that changes nothing', () => {
    const h = createHistory('a');
    expect(commit(h, 'a')).toBe(h);
  });

  it(`keeps the last ${HISTORY_LIMIT} steps`, () => {
    let h = createHistory(0);
    for (let i = 1; i <= HISTORY_LIMIT + 50; i++) h = commit(h, i);
    expect(h.past.length).toBe(HISTORY_LIMIT);
    expect(h.past[0]).toBe(50);
  });
});
