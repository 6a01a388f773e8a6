/** A model file or folder under an id of the caller's choosing (a zoo's model id, a hub name). */
export interface NamedModelPath {
  id: string;
  path: string;
}

export function isNamedModelPath(ref: unknown): ref is NamedModelPath {
  return typeof ref === 'object' && ref !== null && typeof (ref as NamedModelPath).id === 'string' && typeof (ref as NamedModelPath).path === 'string';
}
