// Export the journey map (emotion curve + heat map) as one SVG file, or as a PNG drawn from it on a canvas.

import { FONT, INK, MUTED } from "./charts.js";
import { download, s } from "./dom.js";

const PAD = 24;
const SCALE = 2; // PNG pixels per SVG unit: sharp on screens and in slides

function stamp() {
  return new Date().toISOString().slice(0, 10);
}

/** One standalone SVG document with a title, the curve and the heat map stacked. */
export function mapSvg(curve, heatmap, { title, subtitle, curveTitle, heatmapTitle }) {
  const width = Number(curve.getAttribute("width"));
  const curveH = Number(curve.getAttribute("height"));
  const heatH = Number(heatmap.getAttribute("height"));
  const header = 70;
  const gap = 34;
  const height = PAD + header + 22 + curveH + gap + heatH + PAD;
  const root = s("svg", {
    xmlns: "http://www.w3.org/2000/svg",
    width: width + 2 * PAD,
    height,
    viewBox: `0 0 ${width + 2 * PAD} ${height}`,
    "font-family": FONT,
  });
  const place = (chart, y, h) => {
    const copy = chart.cloneNode(true);
    for (const node of copy.querySelectorAll("[tabindex]")) node.removeAttribute("tabindex");
    copy.setAttribute("x", PAD);
    copy.setAttribute("y", y);
    copy.setAttribute("width", width);
    copy.setAttribute("height", h);
    copy.removeAttribute("class");
    return copy;
  };
  let y = PAD;
  root.append(
    s("rect", { x: 0, y: 0, width: width + 2 * PAD, height, fill: "#ffffff" }),
    s("text", { x: PAD, y: y + 22, "font-size": 22, "font-weight": 700, fill: INK }, title),
    s("text", { x: PAD, y: y + 46, "font-size": 13, fill: MUTED }, subtitle),
  );
  y += header;
  root.append(
    s("text", { x: PAD, y: y + 4, "font-size": 15, "font-weight": 700, fill: INK }, curveTitle),
    place(curve, y + 14, curveH),
  );
  y += 22 + curveH + gap;
  root.append(
    s("text", { x: PAD, y: y - 8, "font-size": 15, "font-weight": 700, fill: INK }, heatmapTitle),
    place(heatmap, y, heatH),
  );
  return root;
}

function serialise(svg) {
  return '<?xml version="1.0" encoding="UTF-8"?>\n' + new XMLSerializer().serializeToString(svg);
}

export function downloadSvg(svg, name = "parcours-journey-map") {
  download(new Blob([serialise(svg)], { type: "image/svg+xml;charset=utf-8" }), `${name}-${stamp()}.svg`);
}

/** Draw the SVG on a canvas (nothing leaves the page) and download the PNG. */
export async function downloadPng(svg, name = "parcours-journey-map") {
  const width = Number(svg.getAttribute("width"));
  const height = Number(svg.getAttribute("height"));
  const url = URL.createObjectURL(new Blob([serialise(svg)], { type: "image/svg+xml;charset=utf-8" }));
  try {
    const image = new Image();
    image.src = url;
    await image.decode();
    const canvas = document.createElement("canvas");
    canvas.width = width * SCALE;
    canvas.height = height * SCALE;
    const context = canvas.getContext("2d");
    context.scale(SCALE, SCALE);
    context.fillStyle = "#ffffff";
    context.fillRect(0, 0, width, height);
    context.drawImage(image, 0, 0, width, height);
    const blob = await new Promise((resolve, reject) =>
      canvas.toBlob((b) => (b ? resolve(b) : reject(new Error("canvas"))), "image/png"),
    );
    download(blob, `${name}-${stamp()}.png`);
  } finally {
    URL.revokeObjectURL(url);
  }
}
