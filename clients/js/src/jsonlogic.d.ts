declare module 'json-logic-js' {
  const jsonLogic: { apply(rule: unknown, data?: unknown): unknown; add_operation(name: string, fn: (...a: unknown[]) => unknown): void };
  export default jsonLogic;
}
