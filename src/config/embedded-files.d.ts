// Text imports (`with { type: "text" }`) of the files under etc/openedge that `bun build --compile`
// embeds in the executable. The JavaScript example is matched by its folder so no real .js import is affected.

declare module "*.yml" {
  const text: string;
  export default text;
}

declare module "*.py" {
  const text: string;
  export default text;
}

declare module "*/function-sayjs-code/index.js" {
  const text: string;
  export default text;
}
