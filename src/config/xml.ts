/**
 * XML text → a small element tree that remembers where each element starts, so every later
 * (semantic) error can name a line and column. fast-xml-parser does the parsing; this file only
 * reshapes its ordered output.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { ConfigError } from '../errors.js';

export interface XmlElement {
  readonly name: string;
  /** Attribute values as written, entities decoded. */
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: readonly XmlElement[];
  /** Concatenated text and CDATA directly inside the element, untrimmed. */
  readonly text: string;
  readonly line: number;
  readonly column: number;
}

// preserveOrder keeps document order (needed for line numbers and Sersync's positional reading);
// values stay strings because Sersync's switches compare text ("true"), never booleans.
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  preserveOrder: true,
  captureMetaData: true,
  parseAttributeValue: false,
  parseTagValue: false,
  trimValues: false,
  allowBooleanAttributes: false,
});
const META = XMLParser.getMetaDataSymbol() as unknown as symbol;

type Ordered = Record<string, unknown> & { ':@'?: Record<string, string> };

/** Line (1-based) and column (1-based) of a character offset. */
export function locate(text: string, index: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: index - lineStart + 1 };
}

/** Parses `xml` and returns its root element. Malformed XML is a ConfigError at the parser's position. */
export function parseXml(xml: string, file: string): XmlElement {
  const valid = XMLValidator.validate(xml, { allowBooleanAttributes: false });
  if (valid !== true) {
    throw new ConfigError({ file, line: valid.err.line ?? 1, column: valid.err.col ?? 1, detail: `malformed XML: ${valid.err.msg}` });
  }
  const nodes = parser.parse(xml) as Ordered[];
  const roots = nodes.flatMap((n) => toElements(n, xml));
  const root = roots[0];
  if (!root) throw new ConfigError({ file, line: 1, column: 1, detail: 'empty document: expected a <head version="2.5"> element' });
  return root;
}

function toElements(node: Ordered, xml: string): XmlElement[] {
  const name = Object.keys(node).find((k) => k !== ':@');
  // Text, comments and processing instructions (`<?xml …?>`) are not elements.
  if (name === undefined || name === '#text' || name.startsWith('?') || name === '#comment') return [];
  const body = (node[name] ?? []) as Ordered[];
  const meta = (node as Record<symbol, { startIndex?: number } | undefined>)[META];
  const { line, column } = locate(xml, meta?.startIndex ?? 0);
  let text = '';
  for (const child of body) {
    if ('#text' in child) text += String(child['#text']);
  }
  return [
    {
      name,
      attrs: { ...(node[':@'] ?? {}) },
      children: body.flatMap((c) => toElements(c, xml)),
      text,
      line,
      column,
    },
  ];
}
