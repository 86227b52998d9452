// Stand-in, in the bench's bundle, for optional modules the Worker's libraries may load with a
// dynamic import but never do here (bench/direct.ts): resend's React renderer (this project sends
// MJML), and converters of validation libraries other than valibot.
export const render = () => {
  throw new Error('React emails are not used')
}
export default {}
