import { SHORTCUTS } from '../shortcuts.ts';
import { Dialog } from './Dialog.tsx';

/** Every keyboard shortcut, from the same table the key handler reads. */
export function HelpDialog({ open, onClose }: { open: boolean; onClose(): void }) {
  return (
    <Dialog open={open} title="Keyboard shortcuts" onClose={onClose}>
      <table className="shortcuts">
        <thead>
          <tr>
            <th scope="col">Keys</th>
            <th scope="col">Action</th>
          </tr>
        </thead>
        <tbody>
          {SHORTCUTS.map((s) => (
            <tr key={s.action}>
              <td>
                <kbd>{s.keys}</kbd>
              </td>
              <td>{s.label}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted">On a Mac, Cmd works wherever Ctrl is listed. Drag from a port&apos;s dot to a node to wire it, or pick the target in the inspector&apos;s Ports section.</p>
    </Dialog>
  );
}
