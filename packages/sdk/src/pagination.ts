/** What every list reply carries besides its items: absent on the last page. */
interface Page {
  readonly next_page_token?: string;
}

/**
 * Every item of every page, in order. The next page is fetched only when the caller has
 * consumed the previous one, so breaking out of the loop early costs no extra request.
 */
export async function* paginate<P extends Page, T>(
  fetchPage: (pageToken: string | undefined) => Promise<P>,
  itemsOf: (page: P) => readonly T[],
): AsyncGenerator<T, void, undefined> {
  let pageToken: string | undefined;
  do {
    const page = await fetchPage(pageToken);
    yield* itemsOf(page);
    pageToken = page.next_page_token;
  } while (pageToken);
}
