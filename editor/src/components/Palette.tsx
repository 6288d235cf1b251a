import { useContext, useMemo, useState, type DragEvent, type KeyboardEvent } from 'react';
import { KindsContext } from '../editor-context.ts';
import { KIND_DRAG_TYPE } from './Canvas.tsx';

export interface PaletteProps {
  readOnly: boolean;
  readOnlyReason: string | undefined;
  /** Adds a node of the kind where the user is looking (keyboard, click). */
  onAdd(kind: string): void;
  /** Shown, or folded to a thin bar with a button that brings it back. */
  open: boolean;
  onToggle(): void;
}

/**
 * The node kinds by category, as GET /admin/api/kinds lists them. Drag one onto the canvas, or
 * focus it and press Enter.
 */
export function Palette({ readOnly, readOnlyReason, onAdd, open, onToggle }: PaletteProps) {
  const kinds = useContext(KindsContext);
  const [query, setQuery] = useState('');
  const groups = useMemo(() => {
    const q = query.trim().toLowerCase();
    const shown = kinds.list.filter((k) => q === '' || `${k.title} ${k.kind} ${k.description} ${k.category}`.toLowerCase().includes(q));
    return kinds.categories.map((category) => ({ category, kinds: shown.filter((k) => k.category === category) })).filter((g) => g.kinds.length > 0);
  }, [kinds, query]);

  const onDragStart = (e: DragEvent, kind: string) => {
    e.dataTransfer.setData(KIND_DRAG_TYPE, kind);
    e.dataTransfer.setData('text/plain', kind);
    e.dataTransfer.effectAllowed = 'copy';
  };
  const onKeyDown = (e: KeyboardEvent, kind: string) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      if (!readOnly) onAdd(kind);
    }
  };

  if (!open)
    return (
      <nav className="palette palette--folded" aria-label="Node palette">
        <button type="button" className="fold-button" aria-expanded="false" aria-label="Show the node palette" title="Show the node palette" onClick={onToggle}>
          »
        </button>
      </nav>
    );
  return (
    <nav className="palette" aria-label="Node palette">
      <div className="palette__search">
        <button type="button" className="fold-button" aria-expanded="true" aria-label="Hide the node palette" title="Hide the node palette" onClick={onToggle}>
          «
        </button>
        <input
          type="search"
          id="palette-search"
          placeholder="Search kinds  /"
          aria-label="Search node kinds"
          value={query}
          data-native-keys
          onChange={(e) => setQuery(e.target.value)}
        />
      </div>
      {groups.map((group) => (
        <section key={group.category} className="palette__group" aria-labelledby={`palette-${group.category}`}>
          <h3 id={`palette-${group.category}`} className="palette__category">
            {group.category}
          </h3>
          <ul role="list">
            {group.kinds.map((k) => (
              <li key={k.kind}>
                <div
                  role="button"
                  tabIndex={0}
                  className={`palette__item palette__item--${k.category.toLowerCase()}`}
                  draggable={!readOnly}
                  aria-disabled={readOnly || undefined}
                  aria-description={readOnly ? readOnlyReason : `${k.description} Drag onto the canvas, or press Enter.`}
                  title={readOnly ? readOnlyReason : k.description}
                  onDragStart={(e) => onDragStart(e, k.kind)}
                  onKeyDown={(e) => onKeyDown(e, k.kind)}
                  onDoubleClick={() => !readOnly && onAdd(k.kind)}
                >
                  <span className="sr-only">Add </span>
                  <span className="palette__title">{k.title}</span>
                  <span className="palette__kind">{k.kind}</span>
                </div>
              </li>
            ))}
          </ul>
        </section>
      ))}
      {groups.length === 0 && <p className="muted palette__empty">No kind matches “{query}”.</p>}
    </nav>
  );
}
