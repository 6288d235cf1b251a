import { closeSync, fstatSync, openSync, readSync, realpathSync, constants } from 'node:fs';
import { join, sep } from 'node:path';
import { PrepareError } from '../prepare-error.ts';

/*
 * Files a workflow document names (jwt-verify's jwksFile) come from the editor role: they are
 * read only from the keys folder of the data directory, by a relative name, and a refusal never
 * quotes the file's content (a parse error would echo its first bytes: /etc/shadow, a process's
 * environment). The folder holds public material only; the demo's private key stays beside it.
 */

/** The folder of the data directory that workflow documents may read files from. */
const KEYS_FOLDER = 'keys';

/** Largest file read: a key set is a few kilobytes. */
const MAX_KEY_FILE = 1024 * 1024;

export const keysDir = (dataDir: string) => join(dataDir, KEYS_FOLDER);

/** What a runtime reads from the keys folder at publish time. */
export interface KeyFiles {
  /** The text of a file of the keys folder, by its relative name. */
  read(name: string, field: string): string;
}

/**
 * The keys folder of `dataDir`: relative names only, no `..` segment, and the file's real path
 * (symbolic links followed) inside the folder's real path; regular files up to 1 MB.
 * @throws PrepareError naming the field and the file as written, never its content
 */
export function createKeyFiles(dataDir: string): KeyFiles {
  const folder = keysDir(dataDir);
  return {
    read(name, field) {
      const refuse = (why: string) => new PrepareError(field, `file "${name}" ${why}`);
      if (name.startsWith('/') || name.includes('\\') || /^[A-Za-z]:/.test(name) || name.includes('\0')) throw refuse(`is not allowed: name a file of the keys folder ($SLUICE_DATA/${KEYS_FOLDER}/) by a relative path`);
      if (name.split('/').some((segment) => segment === '..')) throw refuse(`is not allowed: ".." leaves the keys folder ($SLUICE_DATA/${KEYS_FOLDER}/)`);
      let real: string;
      let root: string;
      try {
        root = realpathSync(folder);
      } catch {
        throw refuse(`cannot be read: the data directory has no keys folder ($SLUICE_DATA/${KEYS_FOLDER}/)`);
      }
      try {
        real = realpathSync(join(folder, name));
      } catch {
        throw refuse(`cannot be read from the keys folder ($SLUICE_DATA/${KEYS_FOLDER}/): it does not exist`);
      }
      if (!real.startsWith(root + sep)) throw refuse(`is not allowed: it leads outside the keys folder ($SLUICE_DATA/${KEYS_FOLDER}/)`);
      let fd: number | undefined;
      try {
        // O_NONBLOCK: a FIFO placed in the folder must not hold the publish forever
        fd = openSync(real, constants.O_RDONLY | constants.O_NONBLOCK);
        const stat = fstatSync(fd);
        if (!stat.isFile()) throw refuse('is not a regular file');
        if (stat.size > MAX_KEY_FILE) throw refuse(`is larger than ${MAX_KEY_FILE} bytes`);
        const buffer = Buffer.alloc(stat.size);
        let read = 0;
        while (read < stat.size) {
          const n = readSync(fd, buffer, read, stat.size - read, read);
          if (n === 0) break;
          read += n;
        }
        return buffer.subarray(0, read).toString('utf8');
      } catch (error) {
        if (error instanceof PrepareError) throw error;
        throw refuse('cannot be read'); // the system's message names the real path: not for an editor
      } finally {
        if (fd !== undefined) closeSync(fd);
      }
    },
  };
}
