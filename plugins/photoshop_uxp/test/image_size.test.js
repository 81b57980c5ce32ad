/**
 * Image headers as the phone page and the panel read them (src/image_size.js, issue 7): the
 * magic numbers, a JPEG's stored size (baseline, progressive, EXIF thumbnails, every SOF kind,
 * damaged files), a PNG's IHDR; what protocol.photoFile takes is what imageInfo takes.
 */
"use strict";

const { test, describe } = require("node:test");
const assert = require("node:assert/strict");

const { fixture } = require("../testing/phone_images");
const images = require("../src/image_size");
const protocol = require("../src/protocol");

/**
 * A JPEG with an extra EXIF (APP1) segment right after SOI that carries another whole JPEG
 * (a thumbnail, as cameras write it), whose frame header must not be taken for the image's.
 * @param {Uint8Array} jpeg the image
 * @param {Uint8Array} thumbnail a smaller JPEG
 * @returns {Uint8Array}
 */
function withExifThumbnail(jpeg, thumbnail) {
  const tiff = [0x4d, 0x4d, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x08]; // big-endian TIFF header
  const body = new Uint8Array([...Buffer.from("Exif\0\0", "latin1"), ...tiff, ...thumbnail]);
  const length = body.length + 2;
  return new Uint8Array([0xff, 0xd8, 0xff, 0xe1, length >> 8, length & 0xff, ...body, ...jpeg.subarray(2)]);
}

/**
 * Bytes of a JPEG made of the given segments (marker, body) after SOI, then SOS and EOI.
 * @param {Array<[number, number[]]>} segments
 * @returns {Uint8Array}
 */
function jpegOf(segments) {
  const bytes = [0xff, 0xd8];
  for (const [marker, body] of segments) bytes.push(0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body);
  bytes.push(0xff, 0xda, 0x00, 0x02, 0xff, 0xd9);
  return new Uint8Array(bytes);
}

/** A SOF body: 8-bit precision, height, width, one component. */
function sofBody(width, height) {
  return [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 1, 1, 0x11, 0];
}

describe("image headers, as the phone page and the panel read them", () => {
  test("sniffImageType reads the magic numbers, not the name", async () => {
    assert.equal(images.sniffImageType(await fixture("baseline.jpg")), "jpeg");
    assert.equal(images.sniffImageType(await fixture("disc.png")), "png");
    const heic = new Uint8Array([0, 0, 0, 0x18, ...Buffer.from("ftypheic", "latin1"), 0, 0, 0, 0]);
    assert.equal(images.sniffImageType(heic), null);
    assert.equal(images.sniffImageType(new Uint8Array(Buffer.from("GIF89a\x01\x00", "latin1"))), null);
    assert.equal(images.sniffImageType(new Uint8Array(Buffer.from("RIFF\0\0\0\0WEBPVP8 ", "latin1"))), null);
    assert.equal(images.sniffImageType(new Uint8Array([0xff, 0xd8])), null, "too short for a JPEG");
    assert.equal(images.sniffImageType(new Uint8Array(0)), null);
  });

  test("jpegSize: baseline, progressive and EXIF-bearing files give their stored size", async () => {
    assert.deepEqual(images.jpegSize(await fixture("baseline.jpg")), { width: 64, height: 40 });
    const progressive = await fixture("progressive.jpg");
    assert.ok(progressive.some((b, i) => b === 0xff && progressive[i + 1] === 0xc2), "PIL wrote a SOF2 (progressive) marker");
    assert.deepEqual(images.jpegSize(progressive), { width: 200, height: 150 });
    // EXIF orientation 6 shows the photo turned; the buffer spec wants the stored size.
    assert.deepEqual(images.jpegSize(await fixture("cut.jpg")), { width: 320, height: 240 });
    const camera = withExifThumbnail(await fixture("baseline.jpg"), await fixture("thumb.jpg"));
    assert.deepEqual(images.jpegSize(camera), { width: 64, height: 40 }, "not the thumbnail's 16x8");
    assert.deepEqual(images.imageInfo(camera), { format: "jpeg", width: 64, height: 40 });
  });

  test("jpegSize: fill bytes, standalone markers and every SOF kind; damaged files are BadImage", () => {
    assert.deepEqual(images.jpegSize(jpegOf([[0xe0, [1, 2, 3]], [0xc0, sofBody(4000, 3000)]])), { width: 4000, height: 3000 });
    for (const marker of [0xc1, 0xc2, 0xc3, 0xc9, 0xca, 0xcf]) {
      assert.deepEqual(images.jpegSize(jpegOf([[marker, sofBody(7, 5)]])), { width: 7, height: 5 }, marker.toString(16));
    }
    // DHT (C4) and DAC (CC) are not frame headers, although they sit among them.
    assert.deepEqual(images.jpegSize(jpegOf([[0xc4, sofBody(1, 1)], [0xcc, [0, 0]], [0xc0, sofBody(9, 8)]])), { width: 9, height: 8 });
    const filled = new Uint8Array([0xff, 0xd8, 0xff, 0xff, 0xff, 0xd0, 0xff, 0xc0, 0, 11, ...sofBody(3, 2)]);
    assert.deepEqual(images.jpegSize(filled), { width: 3, height: 2 });

    const bad = (bytes, pattern) => assert.throws(() => images.jpegSize(bytes), (error) => {
      assert.ok(error instanceof images.BadImage, error);
      assert.match(error.message, pattern);
      return true;
    });
    bad(jpegOf([[0xe0, [1]]]), /no frame header/);
    bad(jpegOf([[0xc0, sofBody(640, 0)]]), /DNL/);
    bad(new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 1, 2]), /ends before/);
    bad(new Uint8Array([0xff, 0xd8, 0xff, 0xc0, 0x00, 0x0b, 8, 0]), /cut short/);
    bad(new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 1, 2, 0x12, 0x34, 0, 0]), /no marker at byte 8/);
    bad(new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x01, 1, 2]), /segment length 1/);
    bad(new Uint8Array([0x89, 0x50, 0x4e, 0x47]), /not a JPEG/);
  });

  test("pngSize reads IHDR; imageInfo names the format or refuses the file", async () => {
    const png = await fixture("disc.png");
    assert.deepEqual(images.pngSize(png), { width: 90, height: 70 });
    assert.deepEqual(images.imageInfo(png), { format: "png", width: 90, height: 70 });
    const wide = png.slice(0, 33);
    wide.set([0x00, 0x01, 0x00, 0x00], 16); // 65536 wide: all four bytes count
    assert.deepEqual(images.pngSize(wide), { width: 65536, height: 70 });
    const headless = png.slice(0, 33);
    headless.set(Buffer.from("IDAT", "latin1"), 12);
    assert.throws(() => images.pngSize(headless), /no header chunk/);
    assert.throws(() => images.pngSize(png.slice(0, 20)), /no header chunk/);
    assert.throws(() => images.imageInfo(new Uint8Array(Buffer.from("GIF89a\x01\x00\x01\x00", "latin1"))), (error) => {
      assert.ok(error instanceof images.BadImage);
      assert.match(error.message, /not a JPEG or PNG/);
      return true;
    });
  });

  test("the page and the panel read image headers alike: what photoFile takes, imageInfo takes", async () => {
    const sevenByteSof = new Uint8Array([0xff, 0xd8, 0xff, 0xc0, 0x00, 0x07, 8, 0, 2, 0, 3, 0xff, 0xd9]);
    assert.deepEqual(images.jpegSize(sevenByteSof), { width: 3, height: 2 }, "a SOF length of 7 is enough, as for the engine's codec");
    const png = await fixture("disc.png");
    assert.throws(() => images.pngSize(png.slice(0, 32)), /no header chunk/, "an IHDR chunk cut short");
    const files = [png, png.slice(0, 32), await fixture("cut.jpg"), sevenByteSof, jpegOf([[0xc0, sofBody(640, 0)]]),
      jpegOf([[0xe0, [1]]]), new Uint8Array([0xff, 0xd8, 0x00, 0xc0]), new Uint8Array(Buffer.from("GIF89a\x01\x00\x01\x00", "latin1"))];
    for (const bytes of files) {
      let info = null;
      try {
        info = images.imageInfo(bytes);
      } catch (error) {
        assert.ok(error instanceof images.BadImage, error);
      }
      if (info === null) assert.throws(() => protocol.photoFile("plate", bytes), /not a PNG or JPEG file/);
      else assert.deepEqual(protocol.photoFile("plate", bytes), { name: "plate", ...info, data: bytes });
    }
  });

});
