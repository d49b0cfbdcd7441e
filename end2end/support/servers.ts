/**
 * The two servers under test (both started by serve.sh, see playwright.config.ts):
 * - `baseURL`, port GLANCE_SHARE_E2E_PORT (3100): no directory reader, as most operators run it;
 *   every spec but the names one runs against it, and many assert that behaviour (IDs only).
 * - `directoryBaseURL`, the next port: the same build with the lab's directory reader
 *   (`GLANCE_SHARE_DIRECTORY_USER` / `_PASSWORD_FILE`, issue 14), so it shows and accepts
 *   project names. A spec uses it with `test.use({ baseURL: directoryBaseURL })`.
 */
export const port = Number(process.env.GLANCE_SHARE_E2E_PORT ?? 3100);
export const directoryPort = port + 1;
export const baseURL = `http://127.0.0.1:${port}`;
export const directoryBaseURL = `http://127.0.0.1:${directoryPort}`;
