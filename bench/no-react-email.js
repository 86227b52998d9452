// Stand-in for @react-email/render in the bench's bundle: this project never renders React emails.
export const render = () => {
  throw new Error('React emails are not used')
}
