/** The ref grantops keeps approval evidence in, as git notes: the one place it is named. */
export const NOTES_REF = 'refs/notes/grantops';
