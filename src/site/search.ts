/**
 * Search across the essays, without JavaScript: the build writes an index of every essay's plain
 * text (SEARCH_INDEX_PATH, published with the pages), and the Worker matches a query against it.
 * Small sites need no more: one blob, read through the isolate's cache, scanned in microseconds.
 */

/** Where the build publishes the index. */
export const SEARCH_INDEX_PATH = '/search-index.json'

/** One essay as the index holds it. */
export interface IndexedEssay {
  path: string
  title: string
  description: string
  /** The essay's text, tags stripped, whitespace folded. */
  text: string
}

/** The index the build writes. */
export interface SearchIndex {
  version: 1
  essays: IndexedEssay[]
}

/** One essay that matched, with a line of context around the first match. */
export interface SearchHit {
  path: string
  title: string
  /** The context line cut in three: before, the matched word, after. */
  context: [string, string, string]
}

/** Lower case, accents off: "Zoë" finds "zoe". */
const fold = (s: string) => s.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase()

/** The words of a query, folded; at most eight. */
const queryWords = (q: string) =>
  fold(q)
    .match(/[\p{L}\p{N}]+/gu)
    ?.slice(0, 8) ?? []

const CONTEXT = 80

/**
 * The essays holding every word of the query (as the start of a word: "exercise" finds
 * "exercises"), title matches first, each with a line of context around its first match.
 */
export function search(index: SearchIndex, q: string): SearchHit[] {
  const words = queryWords(q)
  if (words.length === 0) return []
  const starts = words.map((w) => new RegExp(`(?<![\\p{L}\\p{N}])${w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'u'))
  const hits: (SearchHit & { inTitle: boolean })[] = []
  for (const essay of index.essays) {
    const title = fold(essay.title)
    // Folding keeps the text's length for the scripts a site like this uses, so positions carry over.
    const text = fold(essay.text)
    if (!starts.every((re) => re.test(title) || re.test(text))) continue
    const at = starts.map((re) => text.search(re)).find((i) => i >= 0) ?? -1
    const word = at >= 0 ? (text.slice(at).match(/^[\p{L}\p{N}]+/u)?.[0] ?? '') : ''
    const from = Math.max(0, at - CONTEXT)
    const to = Math.min(essay.text.length, at + word.length + CONTEXT)
    const context: [string, string, string] =
      at >= 0
        ? [
            `${from > 0 ? '…' : ''}${essay.text.slice(from, at)}`,
            essay.text.slice(at, at + word.length),
            `${essay.text.slice(at + word.length, to)}${to < essay.text.length ? '…' : ''}`,
          ]
        : [essay.description, '', '']
    hits.push({ path: essay.path, title: essay.title, context, inTitle: starts.some((re) => re.test(title)) })
  }
  return hits.sort((a, b) => Number(b.inTitle) - Number(a.inTitle)).map(({ inTitle: _, ...hit }) => hit)
}
