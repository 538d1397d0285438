// The peers in Node: loaded from a folder's node_modules (bench/ by default). The table of peers
// and the loading loop are table.ts's, shared with the browser run.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type PeerContext } from "./table";
import { importPeer, peerVersion } from "./resolve";

export {
  PEERS,
  type PeerContext,
  type PeerEntry,
  type PeerStatus,
  defaultPeers,
  findPeer,
  loadPeers,
} from "./table";

export const DEFAULT_PEERS_DIR = join(fileURLToPath(new URL(".", import.meta.url)), "..");

/** The peers installed in `dir`'s node_modules, imported the way Node would. */
export function nodePeers(dir: string): PeerContext {
  return { dir, load: (name) => importPeer(dir, name), version: (name) => peerVersion(dir, name) };
}
