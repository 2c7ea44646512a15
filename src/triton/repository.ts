/**
 * Writes a Triton model repository for a generator: `DIR/<name>/1/model.onnx` and `DIR/<name>/config.pbtxt`.
 * The model folder is built beside its final place and renamed into it (`src/fsio`'s `replaceFolder`), so an
 * error leaves no partial folder, an older folder of that name stays until the new one is complete, and a
 * folder of that name the project did not create is refused, never deleted.
 * @module
 */
import { join } from "node:path";
import { replaceFolder, writeFileAtomic, writeTextFileAtomic } from "../fsio/mod.ts";
import { readModelInfo } from "../infer/mod.ts";
import { formatPbtxt, type TritonConfigOptions, tritonModelConfig } from "./model_config.ts";

/** What {@link writeTritonRepository} wrote. */
export interface TritonRepositoryFiles {
  modelFolder: string;
  modelPath: string;
  configPath: string;
  config: string;
}

const MODEL_NAME = /^[A-Za-z0-9_.-]+$/;

/**
 * Packages the bytes of an ONNX generator as model `options.name`, version 1, of the Triton repository `dir`
 * (created when missing; its parent must exist). The dims in `config.pbtxt` are read from the file.
 * @throws {ModelError} when the bytes are not a generator; file system errors as they come.
 * @throws {RangeError} for a name Triton cannot use as a folder.
 */
export async function writeTritonRepository(
  dir: string,
  modelBytes: Uint8Array,
  options: TritonConfigOptions,
): Promise<TritonRepositoryFiles> {
  if (!MODEL_NAME.test(options.name) || options.name.startsWith(".")) {
    throw new RangeError(
      `model name "${options.name}" must be letters, digits, "_", "-" or "." and not start with "."`,
    );
  }
  const config = formatPbtxt(tritonModelConfig(readModelInfo(modelBytes), options));
  // Created here (its parent must exist) unless it is there already; removed again if packaging fails.
  const createdDir = await Deno.mkdir(dir).then(() => true, (e) => {
    if (e instanceof Deno.errors.AlreadyExists) return false;
    throw e;
  });
  const modelFolder = join(dir, options.name);
  try {
    await replaceFolder(modelFolder, "deno task export --triton", async (tmp) => {
      await Deno.mkdir(join(tmp, "1"));
      writeFileAtomic(join(tmp, "1", "model.onnx"), modelBytes);
      writeTextFileAtomic(join(tmp, "config.pbtxt"), config);
    });
  } catch (e) {
    if (createdDir) await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw e;
  }
  return {
    modelFolder,
    modelPath: join(modelFolder, "1", "model.onnx"),
    configPath: join(modelFolder, "config.pbtxt"),
    config,
  };
}
