// Placeholder until its issue lands.
export const handler = async (_event: unknown): Promise<void> => {
  throw new Error("not implemented yet");
};
