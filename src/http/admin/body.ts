/**
 * Request bodies of the admin API in the three encodings Label Studio's views accept (its parser_classes:
 * JSONParser, FormParser, MultiPartParser): JSON, `application/x-www-form-urlencoded` and
 * `multipart/form-data`. JSON and forms go through @koa/bodyparser; multipart through busboy (the parser
 * multer and most Node frameworks build on). The API takes no files: a file part is refused, and every
 * limit is small, so a body never costs more than a few tens of kilobytes.
 */
import { bodyParser } from '@koa/bodyparser';
import busboy from 'busboy';
import type Koa from 'koa';
import { RolegateError } from '../../errors.js';

const LIMIT_BYTES = 32 * 1024;
const MAX_FIELDS = 64;

function readMultipart(ctx: Koa.Context): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: ctx.req.headers, limits: { fieldSize: LIMIT_BYTES, fields: MAX_FIELDS, files: 0, parts: MAX_FIELDS, fieldNameSize: 100 } });
    } catch (err) {
      reject(new RolegateError('ERR_BAD_REQUEST', 'multipart body: malformed Content-Type (no boundary)', { cause: err }));
      return;
    }
    // No prototype: a field named __proto__ is an ordinary key.
    const out = Object.create(null) as Record<string, unknown>;
    let total = 0;
    let failed: RolegateError | undefined;
    const fail = (e: RolegateError): void => {
      if (failed === undefined) failed = e;
    };
    parser.on('field', (name, value, info) => {
      total += name.length + value.length;
      if (info.valueTruncated || info.nameTruncated || total > LIMIT_BYTES) {
        fail(new RolegateError('ERR_PAYLOAD_TOO_LARGE', `multipart body over ${LIMIT_BYTES} bytes`));
        return;
      }
      const prev = out[name];
      out[name] = prev === undefined ? value : Array.isArray(prev) ? [...(prev as unknown[]), value] : [prev, value];
    });
    parser.on('file', (name, stream) => {
      stream.resume();
      fail(new RolegateError('ERR_BAD_REQUEST', `multipart body: file part "${name}" not accepted (this API takes fields only)`, { fields: { [name]: ['files are not accepted'] } }));
    });
    parser.on('filesLimit', () => fail(new RolegateError('ERR_BAD_REQUEST', 'multipart body: file parts are not accepted')));
    parser.on('fieldsLimit', () => fail(new RolegateError('ERR_PAYLOAD_TOO_LARGE', `multipart body: more than ${MAX_FIELDS} fields`)));
    parser.on('partsLimit', () => fail(new RolegateError('ERR_PAYLOAD_TOO_LARGE', `multipart body: more than ${MAX_FIELDS} parts`)));
    parser.on('error', (err: unknown) => {
      reject(failed ?? new RolegateError('ERR_BAD_REQUEST', 'multipart body: malformed', { cause: err }));
    });
    parser.on('close', () => {
      if (failed !== undefined) reject(failed);
      else resolve(out);
    });
    ctx.req.pipe(parser);
  });
}

/** The admin API's body middleware: JSON, form or multipart, each as a plain object of fields. */
export function apiBody(): Koa.Middleware {
  const jsonOrForm = bodyParser({ enableTypes: ['json', 'form'], jsonLimit: LIMIT_BYTES, formLimit: LIMIT_BYTES, encoding: 'utf-8' });
  return async (ctx, next) => {
    if (ctx.is('multipart/form-data') === 'multipart/form-data') {
      const declared = Number(ctx.get('Content-Length'));
      if (Number.isFinite(declared) && declared > LIMIT_BYTES * 2) throw new RolegateError('ERR_PAYLOAD_TOO_LARGE', 'request body too large');
      ctx.request.body = await readMultipart(ctx);
      return next();
    }
    return jsonOrForm(ctx, next);
  };
}
