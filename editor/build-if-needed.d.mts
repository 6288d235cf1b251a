/** True when the built editor is missing or older than one of its sources. */
export function editorIsStale(): boolean;
/** Builds the editor if it is stale; resolves to whether it built. */
export function buildEditorIfNeeded(options?: { quiet?: boolean }): Promise<boolean>;
