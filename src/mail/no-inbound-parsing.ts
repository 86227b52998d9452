/**
 * Stands in for `postal-mime` in the Worker's bundle (wrangler.toml, [alias]). The resend SDK
 * imports it only to forward emails received through Resend's inbound routing, which this project
 * never does; the real parser is 107 KB of the bundle. Should that path ever run, it says so.
 */
const PostalMime = {
  parse(): never {
    throw new Error('postal-mime is not bundled: this Worker does not forward received emails')
  },
}
export default PostalMime
