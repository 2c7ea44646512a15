/**
 * The project's one write path: every file is written to a temporary sibling, flushed (fsync) and renamed
 * into place, so a crash, a full disk or a kill leaves the old file or the new one, never a part; and the
 * folders the project deletes are only those it created (marked by a stamp file). And its one read
 * path for inputs: every read has a size bound suited to the input, checked before and while reading.
 * A leaf: it imports
 * nothing from the project.
 * @module
 */
export {
  FileWriteError,
  isTemporaryName,
  makeFolder,
  MAX_LINKS,
  processAlive,
  removeStaleTemporaries,
  syncFolder,
  systemReason,
  temporarySibling,
  writeFileAtomic,
  type WriteMode,
  writeNewFile,
  writeTextFileAtomic,
} from "./atomic.ts";
export {
  formatLimit,
  INPUT_LIMITS,
  InputTooLargeError,
  readFileBounded,
  readTextFileBounded,
} from "./bounded_read.ts";
export { refuseOutputOverInput } from "./output_path.ts";
export { NotOwnedFolderError, OWNED_STAMP, replaceFolder, stampFolder } from "./owned_folder.ts";
