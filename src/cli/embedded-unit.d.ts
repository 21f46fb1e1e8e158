// The systemd unit template (build/openedge.service), imported as text so the executable embeds it.
declare module "*.service" {
  const text: string;
  export default text;
}
