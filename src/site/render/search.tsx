import type { SearchHit } from '../search'

/** The search page: the query again, and each matching essay with a line of context. */
export const SearchResults = ({ q, hits }: { q: string; hits: SearchHit[] }) => (
  <>
    <h1>Search</h1>
    <search>
      <form action="/search" method="get" class="search-page">
        <label for="search-page-q">Search the essays</label>
        <input id="search-page-q" name="q" type="search" value={q} maxlength={200} />
        <button type="submit">Search</button>
      </form>
    </search>
    {q === '' ? null : hits.length === 0 ? (
      <p>No essay has every word of “{q}”. Try fewer or other words.</p>
    ) : (
      <>
        <p>
          {hits.length === 1 ? '1 essay matches' : `${hits.length} essays match`} “{q}”.
        </p>
        <ol class="search-results">
          {hits.map((h) => (
            <li>
              <a href={h.path}>{h.title}</a>
              <p>
                {h.context[0]}
                {h.context[1] ? <mark>{h.context[1]}</mark> : null}
                {h.context[2]}
              </p>
            </li>
          ))}
        </ol>
      </>
    )}
  </>
)
