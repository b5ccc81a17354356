/** Offsets are 0-based UTF-16 indexes into the expression source, `end` exclusive. */
export interface SourceSpan {
  start: number;
  end: number;
}

export type ComparisonOperator = "=" | "<>" | ">" | ">=" | "<" | "<=";

export type ExpressionNode =
  | { kind: "call"; name: string; args: ExpressionNode[]; span: SourceSpan }
  | { kind: "attribute"; name: string; span: SourceSpan }
  | { kind: "string"; value: string; span: SourceSpan }
  | { kind: "number"; value: number; raw: string; span: SourceSpan }
  /** A named VBA constant such as `vbTextCompare` (Entra's InStr documents these bare names). */
  | { kind: "constant"; name: string; value: number; span: SourceSpan }
  /** An argument left empty, as in `Switch([IsSoftDeleted], , "False", "True")`. */
  | { kind: "omitted"; span: SourceSpan }
  | {
      kind: "comparison";
      operator: ComparisonOperator;
      left: ExpressionNode;
      right: ExpressionNode;
      span: SourceSpan;
    };

/** Every attribute name an expression reads, in first-use order. */
export function attributeNamesIn(node: ExpressionNode): string[] {
  const names: string[] = [];
  const visit = (current: ExpressionNode): void => {
    switch (current.kind) {
      case "attribute":
        if (!names.includes(current.name)) names.push(current.name);
        return;
      case "call":
        current.args.forEach(visit);
        return;
      case "comparison":
        visit(current.left);
        visit(current.right);
        return;
      default:
        return;
    }
  };
  visit(node);
  return names;
}

export function quoteStringLiteral(value: string): string {
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** Prints an AST back to Entra's syntax; parse(print(ast)) yields the same tree (spans aside). */
export function printExpression(node: ExpressionNode): string {
  switch (node.kind) {
    case "call":
      return `${node.name}(${node.args.map(printExpression).join(", ")})`;
    case "attribute":
      return `[${node.name}]`;
    case "string":
      return quoteStringLiteral(node.value);
    case "number":
      return node.raw;
    case "constant":
      return node.name;
    case "omitted":
      return "";
    case "comparison":
      return `${printExpression(node.left)} ${node.operator} ${printExpression(node.right)}`;
  }
}
