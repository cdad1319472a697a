// The manifests are templates with four placeholders, all derived from two inputs, so the
// server can render them with a plain string replace:
//
//   {{base_url}}       the public base URL, without a trailing slash: https://leakwatch.example.nl
//   {{base_host}}      its host (and port), for the unified manifest's validDomains
//   {{send_mode}}      promptUser | softBlock            (unified JSON manifest)
//   {{send_mode_xml}}  PromptUser | SoftBlock            (add-in-only XML manifest)
//
// Any other "{{" left after rendering is an error.

export const SEND_MODES = { promptUser: "PromptUser", softBlock: "SoftBlock" };

/** The base URL checked: https, or plain http only on 127.0.0.1 / localhost (development). */
export function checkBaseUrl(baseUrl) {
  let url;
  try {
    url = new URL(String(baseUrl));
  } catch (_) {
    throw new Error(`baseUrl is not a URL: ${baseUrl}`);
  }
  const local = url.hostname === "127.0.0.1" || url.hostname === "localhost";
  if (url.protocol !== "https:" && !(url.protocol === "http:" && local)) {
    throw new Error(`baseUrl must be https:// (http:// only for 127.0.0.1 or localhost): ${baseUrl}`);
  }
  // An empty "?" or "#" leaves search and hash empty but stays in href.
  if (url.username || url.password || url.search || url.hash || /[?#]/.test(url.href)) {
    throw new Error(`baseUrl must not carry credentials, a query or a fragment: ${baseUrl}`);
  }
  if (/["<>&'\s]/.test(url.href)) throw new Error(`baseUrl has characters a manifest cannot carry: ${baseUrl}`);
  return { href: url.href.replace(/\/+$/, ""), host: url.host };
}

/** `template` with the placeholders filled in; throws on invalid input or a leftover. */
export function render(template, { baseUrl, sendMode }) {
  const { href, host } = checkBaseUrl(baseUrl);
  if (!Object.prototype.hasOwnProperty.call(SEND_MODES, sendMode)) {
    throw new Error(`sendMode must be one of ${Object.keys(SEND_MODES).join(", ")}: ${sendMode}`);
  }
  const out = template
    .split("{{base_url}}").join(href)
    .split("{{base_host}}").join(host)
    .split("{{send_mode}}").join(sendMode)
    .split("{{send_mode_xml}}").join(SEND_MODES[sendMode]);
  const left = out.match(/\{\{[^}]*\}\}/);
  if (left) throw new Error(`unknown placeholder ${left[0]}`);
  return out;
}
