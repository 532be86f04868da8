// Talking to the server's API: requests that fail with the message of the server's JSON error (its code and
// suggestions kept on the error), and the query strings and image bodies they send.

/** The error of a failed response: the message of its JSON error body, or its status. */
export async function responseError(response) {
  let message = `The server answered ${response.status}${response.statusText ? ` ${response.statusText}` : ''}.`;
  let details = {};
  try {
    const body = await response.json();
    if (body && body.error && body.error.message) {
      message = body.error.message;
      details = body.error;
    }
  } catch {
    // Not JSON: keep the status.
  }
  const retryAfter = response.headers.get('Retry-After');
  if (response.status === 503 && retryAfter) message += ` Try again in ${retryAfter} s.`;
  const error = new Error(message);
  error.code = details.code || '';
  error.suggestions = Array.isArray(details.suggestions) ? details.suggestions : [];
  return error;
}

/** Resolves to a successful response; rejects with the error's message. */
export async function request(url, options) {
  let response;
  try {
    response = await fetch(url, options);
  } catch (error) {
    throw new Error(`The server could not be reached (${error.message}).`);
  }
  if (!response.ok) throw await responseError(response);
  return response;
}

/** Resolves to the status and the decoded JSON body of a successful answer; rejects with the error's message. */
export async function send(url, options) {
  const response = await request(url, options);
  return { status: response.status, body: await response.json() };
}

/**
 * The query string of `parameters`, leaving out empty ones, every value percent-encoded (class names have spaces).
 */
export function queryString(parameters) {
  return Object.entries(parameters)
    .filter(([, value]) => value !== undefined && value !== null && value !== '')
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`)
    .join('&');
}

/** The options of a request that sends `image` (an encoded image: { blob, type }) as its body, with more `headers`. */
export function imageRequest(image, headers = {}) {
  return { method: 'POST', headers: { 'Content-Type': image.type, ...headers }, body: image.blob };
}
