using System.Buffers.Binary;
using System.IO.Compression;

namespace RollingUpgrade.Testing;

/// <summary>
/// The pixels of an 8-bit RGB or RGBA PNG (what Chromium's screenshots are), read without an imaging library: enough to
/// count the pixels of a colour, to tell that a chart drew its data.
/// </summary>
public sealed class PngImage
{
    private readonly byte[] _pixels;
    private readonly int _channels;

    private PngImage(int width, int height, int channels, byte[] pixels)
    {
        Width = width;
        Height = height;
        _channels = channels;
        _pixels = pixels;
    }

    public int Width { get; }

    public int Height { get; }

    public static PngImage Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 8 || bytes[1] != 'P' || bytes[2] != 'N' || bytes[3] != 'G')
        {
            throw new InvalidDataException($"{path} is not a PNG file");
        }

        int width = 0,
            height = 0,
            channels = 0;
        using var data = new MemoryStream();
        for (var at = 8; at + 8 <= bytes.Length; )
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(at));
            var type = System.Text.Encoding.ASCII.GetString(bytes, at + 4, 4);
            var body = bytes.AsSpan(at + 8, length);
            if (type == "IHDR")
            {
                width = BinaryPrimitives.ReadInt32BigEndian(body);
                height = BinaryPrimitives.ReadInt32BigEndian(body[4..]);
                if (body[8] != 8 || body[9] is not (2 or 6) || body[12] != 0)
                {
                    throw new InvalidDataException($"{path}: only 8-bit RGB/RGBA, not interlaced, is read here");
                }

                channels = body[9] == 6 ? 4 : 3;
            }
            else if (type == "IDAT")
            {
                data.Write(body);
            }

            at += 12 + length;
        }

        data.Position = 0;
        using var inflated = new ZLibStream(data, CompressionMode.Decompress);
        var stride = width * channels;
        var raw = new byte[height * (stride + 1)];
        inflated.ReadExactly(raw);
        return new PngImage(width, height, channels, Unfilter(raw, width, height, channels));
    }

    /// <summary>Pixels within <paramref name="tolerance"/> of the colour "#rrggbb" in every channel.</summary>
    public int Count(string colour, int tolerance = 8)
    {
        var r = Convert.ToInt32(colour[1..3], 16);
        var g = Convert.ToInt32(colour[3..5], 16);
        var b = Convert.ToInt32(colour[5..7], 16);
        var count = 0;
        for (var i = 0; i < _pixels.Length; i += _channels)
        {
            if (
                Math.Abs(_pixels[i] - r) <= tolerance
                && Math.Abs(_pixels[i + 1] - g) <= tolerance
                && Math.Abs(_pixels[i + 2] - b) <= tolerance
            )
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>How many pixels are not (nearly) white.</summary>
    public int NotWhite() => (Width * Height) - Count("#ffffff", 6);

    private static byte[] Unfilter(byte[] raw, int width, int height, int channels)
    {
        var stride = width * channels;
        var pixels = new byte[height * stride];
        for (var y = 0; y < height; y++)
        {
            var filter = raw[y * (stride + 1)];
            var line = raw.AsSpan((y * (stride + 1)) + 1, stride);
            var row = pixels.AsSpan(y * stride, stride);
            var above = y > 0 ? pixels.AsSpan((y - 1) * stride, stride) : new byte[stride];
            for (var x = 0; x < stride; x++)
            {
                int left = x >= channels ? row[x - channels] : 0;
                int up = above[x];
                int corner = x >= channels ? above[x - channels] : 0;
                var predicted = filter switch
                {
                    0 => 0,
                    1 => left,
                    2 => up,
                    3 => (left + up) / 2,
                    4 => Paeth(left, up, corner),
                    _ => throw new InvalidDataException($"unknown PNG filter {filter}"),
                };
                row[x] = (byte)(line[x] + predicted);
            }
        }

        return pixels;
    }

    private static int Paeth(int a, int b, int c)
    {
        var p = a + b - c;
        var pa = Math.Abs(p - a);
        var pb = Math.Abs(p - b);
        var pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a
            : pb <= pc ? b
            : c;
    }
}
