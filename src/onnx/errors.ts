/** A layer the exporter cannot translate; the message names the layer, its class and the reason. */
export class UnsupportedLayerError extends Error {
  constructor(readonly layerName: string, readonly className: string, reason: string) {
    super(`layer "${layerName}" (${className}) cannot be exported to ONNX: ${reason}`);
    this.name = "UnsupportedLayerError";
  }
}
