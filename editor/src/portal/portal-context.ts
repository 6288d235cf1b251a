import { createContext, useContext } from 'react';

/** What every portal page loads with: the reader's token (when signed in) and the previewed workflow. */
export interface PortalReader {
  token: string | undefined;
  preview: string | undefined;
}

export const PortalReaderContext = createContext<PortalReader>({ token: undefined, preview: undefined });

export const usePortalReader = () => useContext(PortalReaderContext);
