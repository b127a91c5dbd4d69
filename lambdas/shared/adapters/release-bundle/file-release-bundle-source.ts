/**
 * A release bundle read from a file (`file:///abs/path.zip`): how the local runner rehearses a release from the
 * very zip a pipeline would upload. Same limits, digest check and zip checks as on S3 (`ReleaseBundleSource`).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { MigrationsInvalidError } from '../../contract/errors.js';
import {
  type OpenedBundle,
  ReleaseBundleSource,
  type ReleaseBundleSourceOptions,
} from './release-bundle-source.js';

export interface FileReleaseBundleSourceOptions extends ReleaseBundleSourceOptions {
  /** Absolute path of the zip. */
  readonly path: string;
}

export class FileReleaseBundleSource extends ReleaseBundleSource {
  readonly uri: string;
  private readonly path: string;

  constructor(options: FileReleaseBundleSourceOptions) {
    super(options);
    this.path = options.path;
    this.uri = pathToFileURL(options.path).href;
  }

  protected async open(): Promise<OpenedBundle> {
    const info = await stat(this.path).catch(() => undefined);
    if (!info?.isFile()) {
      throw new MigrationsInvalidError(
        `The release bundle ${this.uri} is refused: ${info ? 'it is not a file' : 'there is no such file'}. ` +
          'Pack the migrations directory with `pack <dir> --out <file>` and pass that file.',
        { details: { bundle: this.uri } },
      );
    }
    const stream = createReadStream(this.path);
    return { body: stream, size: info.size, abort: () => stream.destroy() };
  }
}
