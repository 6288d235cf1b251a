import type { ReactNode } from 'react';

export interface ToolbarButton {
  label: string;
  onClick(): void;
  disabled?: boolean;
  /** Why it is disabled, as title and aria-description. */
  reason?: string | undefined;
  keys?: string;
  primary?: boolean;
  icon?: ReactNode;
}

/** A labelled group of toolbar buttons. */
export function ToolGroup({ label, buttons }: { label: string; buttons: ToolbarButton[] }) {
  return (
    <div className="toolgroup" role="group" aria-label={label}>
      {buttons.map((b) => (
        <button
          key={b.label}
          type="button"
          className={b.primary ? 'primary' : undefined}
          onClick={b.onClick}
          disabled={b.disabled}
          title={b.disabled && b.reason ? b.reason : b.keys ? `${b.label} (${b.keys})` : b.label}
          aria-description={b.disabled ? b.reason : undefined}
          aria-keyshortcuts={b.keys?.replace(/\s*\/\s*/g, ' ')}
        >
          {b.icon && <span aria-hidden="true">{b.icon} </span>}
          {b.label}
        </button>
      ))}
    </div>
  );
}
