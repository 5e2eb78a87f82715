using System.Buffers;
using System.IO.Pipelines;
using Parley.Protocol.Messages;
using Parley.Protocol.Security;

namespace Parley.Protocol.Framing;

/// <summary>
/// Reads and writes <see cref="ParleyMessage"/>s over a duplex pipe: plain frames until <see cref="Protect"/> is
/// called after CONNECT, sealed records from then on. Used by the server's connections and by the client.
/// One task reads and one task writes; neither side is thread-safe on its own.
/// </summary>
public sealed class MessageChannel : IDisposable
{
    private readonly PipeReader _reader;
    private readonly PipeWriter _writer;
    private readonly int _maxBodyBytes;
    private readonly ArrayBufferWriter<byte> _scratch = new(1024);
    private readonly IFrameMeter? _meter;
    private RecordCipher? _sealer;
    private RecordCipher? _opener;
    private bool _acceptPlainRefusal;

    public MessageChannel(IDuplexPipe transport, int maxBodyBytes = Frame.DefaultMaxBodyBytes, IFrameMeter? meter = null)
    {
        _reader = transport.Input;
        _writer = transport.Output;
        _maxBodyBytes = maxBodyBytes;
        _meter = meter;
    }

    public bool IsProtected => _sealer is not null;

    /// <summary>
    /// From now on every frame in both directions is a sealed record under these keys. A client that has just sent
    /// CONNECT passes <paramref name="acceptPlainRefusal"/>: until the first sealed record arrives, a plaintext ERROR
    /// (the server refusing the cookie, when it has no keys to seal with) is accepted too.
    /// </summary>
    public void Protect(DirectionKeys send, DirectionKeys receive, bool acceptPlainRefusal = false)
    {
        _sealer = new RecordCipher(send);
        _opener = new RecordCipher(receive);
        _acceptPlainRefusal = acceptPlainRefusal;
    }

    /// <summary>
    /// The next message, or null when the peer closed the connection cleanly between frames. Throws
    /// <see cref="ProtocolException"/>: fatal ones mean the stream cannot be trusted or resynchronised.
    /// </summary>
    public async ValueTask<ParleyMessage?> ReadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await _reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var consumed = buffer.Start;
            var examined = buffer.End;
            try
            {
                if (Frame.TryRead(ref buffer, _maxBodyBytes, out var kind, out var header, out var body))
                {
                    // More frames may already be buffered behind this one: examined only up to here.
                    consumed = examined = buffer.Start;
                    _meter?.FrameRead(Frame.HeaderBytes + (int)body.Length);
                    return Decode(kind, header, body);
                }

                if (result.IsCompleted || result.IsCanceled)
                {
                    if (buffer.Length > 0)
                    {
                        throw new ProtocolException(ErrorCodes.BadMessage, "The connection closed inside a frame.", fatal: true);
                    }

                    return null;
                }
            }
            finally
            {
                // Without a whole frame, everything was examined and the next read waits for more bytes.
                _reader.AdvanceTo(consumed, examined);
            }
        }
    }

    /// <summary>Frames <paramref name="message"/> into the pipe without flushing, so a sender can batch.</summary>
    public void Write(ParleyMessage message)
    {
        _scratch.ResetWrittenCount();
        MessageCodec.Write(_scratch, message);
        var plain = _scratch.WrittenSpan;
        var bodyLength = plain.Length + (_sealer is null ? 0 : RecordCipher.TagBytes);
        if (bodyLength > _maxBodyBytes)
        {
            throw new ProtocolException(ErrorCodes.FrameTooLarge, "Outgoing message exceeds the frame limit.");
        }

        var span = _writer.GetSpan(Frame.HeaderBytes + bodyLength);
        var header = span[..Frame.HeaderBytes];
        Frame.WriteHeader(header, bodyLength, _sealer is null ? FrameKind.Plain : FrameKind.Sealed);
        if (_sealer is null)
        {
            plain.CopyTo(span[Frame.HeaderBytes..]);
        }
        else
        {
            _sealer.Seal(header, plain, span.Slice(Frame.HeaderBytes, bodyLength));
        }

        _writer.Advance(Frame.HeaderBytes + bodyLength);
        _meter?.FrameWritten(Frame.HeaderBytes + bodyLength);
    }

    public async ValueTask FlushAsync(CancellationToken cancellationToken) =>
        await _writer.FlushAsync(cancellationToken).ConfigureAwait(false);

    public async ValueTask SendAsync(ParleyMessage message, CancellationToken cancellationToken)
    {
        Write(message);
        await FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    public void Dispose()
    {
        _sealer?.Dispose();
        _opener?.Dispose();
    }

    private ParleyMessage Decode(FrameKind kind, ReadOnlySequence<byte> header, ReadOnlySequence<byte> body)
    {
        if (_opener is null)
        {
            if (kind != FrameKind.Plain)
            {
                throw new ProtocolException(ErrorCodes.NotAllowed, "A sealed record arrived before CONNECT.", fatal: true);
            }

            return ReadContiguous(body);
        }

        if (kind == FrameKind.Plain && _acceptPlainRefusal)
        {
            _acceptPlainRefusal = false;
            return ReadContiguous(body) as Error
                ?? throw new ProtocolException(ErrorCodes.RecordInvalid, "Only an ERROR may answer CONNECT in plaintext.", fatal: true);
        }

        _acceptPlainRefusal = false;
        if (kind != FrameKind.Sealed)
        {
            throw new ProtocolException(ErrorCodes.RecordInvalid, "A plaintext frame arrived on a protected connection.", fatal: true);
        }

        Span<byte> h = stackalloc byte[Frame.HeaderBytes];
        header.CopyTo(h);
        var sealedLength = (int)body.Length;
        var rentedBody = ArrayPool<byte>.Shared.Rent(sealedLength);
        var rentedPlain = ArrayPool<byte>.Shared.Rent(Math.Max(1, sealedLength));
        try
        {
            body.CopyTo(rentedBody);
            if (!_opener.TryOpen(h, rentedBody.AsSpan(0, sealedLength), rentedPlain))
            {
                throw new ProtocolException(ErrorCodes.RecordInvalid,
                    "A record failed authentication (tampered, replayed, reordered or dropped).", fatal: true);
            }

            return MessageCodec.Read(rentedPlain.AsSpan(0, sealedLength - RecordCipher.TagBytes));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rentedBody);
            ArrayPool<byte>.Shared.Return(rentedPlain, clearArray: true);
        }
    }

    private static ParleyMessage ReadContiguous(ReadOnlySequence<byte> body)
    {
        if (body.IsSingleSegment)
        {
            return MessageCodec.Read(body.FirstSpan);
        }

        var rented = ArrayPool<byte>.Shared.Rent((int)body.Length);
        try
        {
            body.CopyTo(rented);
            return MessageCodec.Read(rented.AsSpan(0, (int)body.Length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
