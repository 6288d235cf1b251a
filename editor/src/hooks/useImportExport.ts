import { useCallback, useState } from 'react';
import { parseWorkflowText } from '../graph/clipboard.ts';
import { toDocument, type FlowModel } from '../graph/convert.ts';
import { laidOut, modelOf } from '../graph/layout.ts';
import type { EditorModel } from './useEditorModel.ts';
import type { Say } from './useStatusLine.ts';

export interface ImportExportOptions {
  model: EditorModel;
  workflowId: string;
  say: Say;
  fitSoon(): void;
}

export interface ImportExport {
  importOpen: boolean;
  openImport(): void;
  closeImport(): void;
  /** Replaces what is drawn by a pasted or uploaded document (one undo step); the error, if it is not one. */
  importText(text: string): string | undefined;
  /** Downloads the present step as `<id>.json`. */
  exportJson(): void;
}

/** Importing a workflow document onto the canvas and exporting the canvas as one. */
export function useImportExport({ model, workflowId: id, say, fitSoon }: ImportExportOptions): ImportExport {
  const { present } = model;
  const [importOpen, setImportOpen] = useState(false);
  const openImport = useCallback(() => setImportOpen(true), []);
  const closeImport = useCallback(() => setImportOpen(false), []);

  const importText = useCallback(
    (text: string): string | undefined => {
      const parsed = parseWorkflowText(text);
      if ('error' in parsed) return parsed.error;
      // The workflow keeps its own id: importing replaces what is drawn, not which workflow this is.
      const document = { ...parsed.document, id };
      setImportOpen(false);
      // Nodes without positions are laid out first (ELK answers asynchronously); a layout that fails leaves them on a grid.
      void laidOut(document).then((placed) => {
        model.commit(() => modelOf(placed));
        say(parsed.document.id === id ? 'Imported; Undo restores what was drawn before' : `Imported ${parsed.document.id} as ${id}; Undo restores what was drawn before`);
        fitSoon();
      });
      return undefined;
    },
    [model, id, say, fitSoon],
  );

  const exportJson = useCallback(() => exportDocument(present, id, say), [present, id, say]);

  return { importOpen, openImport, closeImport, importText, exportJson };
}

function exportDocument(present: FlowModel, id: string, say: Say): void {
  const text = `${JSON.stringify(toDocument(present), null, 2)}\n`;
  const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  const a = window.document.createElement('a');
  a.href = url;
  a.download = `${id}.json`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
  say(`Exported ${id}.json`);
}
