using System.Buffers;
using System.Buffers.Binary;
using Parley.Protocol.Messages;

namespace Parley.Protocol.Framing;

/// <summary>What a TCP frame's body holds (header byte 4).</summary>
public enum FrameKind : byte
{
    /// <summary>UTF-8 JSON; only CONNECT, and an ERROR refusing it, travel this way.</summary>
    Plain = 0,

    /// <summary>An AES-256-GCM record: ciphertext followed by the 16-byte tag.</summary>
    Sealed = 1,
}

/// <summary>
/// TCP framing (docs/PROTOCOL.md §2): a 5-byte header, the body length as an unsigned 32-bit big-endian integer
/// and a <see cref="FrameKind"/> byte, then the body. The length is checked before any of the body is buffered.
/// </summary>
public static class Frame
{
    public const int HeaderBytes = 5;

    /// <summary>Default bound on a frame body for the server.</summary>
    public const int DefaultMaxBodyBytes = 64 * 1024;

    /// <summary>The largest frame body any Parley peer sends; clients accept up to this, whatever the server's setting.</summary>
    public const int MaximumBodyBytes = 1024 * 1024;

    public static void WriteHeader(Span<byte> header, int bodyLength, FrameKind kind)
    {
        BinaryPrimitives.WriteUInt32BigEndian(header, (uint)bodyLength);
        header[4] = (byte)kind;
    }

    /// <summary>
    /// Takes one whole frame off the front of <paramref name="buffer"/> if it is all there. Throws a fatal
    /// <see cref="ProtocolException"/> for an oversized or unknown frame as soon as its header arrives.
    /// </summary>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, int maxBodyBytes, out FrameKind kind,
        out ReadOnlySequence<byte> header, out ReadOnlySequence<byte> body)
    {
        kind = default;
        header = default;
        body = default;
        if (buffer.Length < HeaderBytes)
        {
            return false;
        }

        Span<byte> h = stackalloc byte[HeaderBytes];
        buffer.Slice(0, HeaderBytes).CopyTo(h);
        var length = BinaryPrimitives.ReadUInt32BigEndian(h);
        if (length > (uint)maxBodyBytes)
        {
            throw new ProtocolException(ErrorCodes.FrameTooLarge,
                $"A frame of {length} bytes exceeds the limit of {maxBodyBytes} bytes.", fatal: true);
        }

        if (h[4] > (byte)FrameKind.Sealed)
        {
            throw new ProtocolException(ErrorCodes.BadMessage, "Unknown frame kind.", fatal: true);
        }

        if (buffer.Length < HeaderBytes + length)
        {
            return false;
        }

        kind = (FrameKind)h[4];
        header = buffer.Slice(0, HeaderBytes);
        body = buffer.Slice(HeaderBytes, length);
        buffer = buffer.Slice(body.End);
        return true;
    }
}
