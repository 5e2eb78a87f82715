using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;

namespace Parley.LoadGenerator.Irc;

/// <summary>
/// One registered client: a read loop that answers PING, records why the link ended and, on a receiver, hands
/// each PRIVMSG's text to the workload; and one write path, serialized, one socket write per line.
/// </summary>
internal sealed class IrcConnection : IAsyncDisposable
{
    // RFC 2812 §2.3: a message is at most 512 bytes including its CR LF.
    private const int MaxLineBytes = 512;

    // What may arrive without a line end. InspIRCd sends nothing near this; more means the stream is not IRC.
    private const int MaxUnterminatedBytes = 8192;

    // When 001 does not show the mask: ":" nick "!" user(10) "@" host(64, InspIRCd's HOSTLEN) " ".
    private const int DefaultRelayPrefixBytes = 1 + 30 + 1 + 10 + 1 + 64 + 1;

    private static readonly TimeSpan QuitTimeout = TimeSpan.FromSeconds(2);
    private static readonly byte[] Quit = "QUIT :bench done\r\n"u8.ToArray();

    private readonly NetworkStream _stream;
    private readonly PipeReader _reader;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly byte[] _writeBuffer = new byte[MaxLineBytes];
    private readonly byte[] _lineBuffer = new byte[MaxUnterminatedBytes];
    private readonly CancellationTokenSource _closing = new();
    private readonly TaskCompletionSource<string?> _welcomed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Action<int, string>? _delivered;
    private readonly int _index;
    private readonly Task _reading;
    private string? _closeReason;
    private string? _serverError;
    private int _relayPrefixBytes;
    private int _disposed;

    public IrcConnection(Socket socket, string nick, Action<int, string>? delivered, int index)
    {
        Nick = nick;
        _delivered = delivered;
        _index = index;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _reader = PipeReader.Create(_stream, new StreamPipeReaderOptions(leaveOpen: true));
        _reading = ReadLoopAsync();
    }

    public string Nick { get; }

    /// <summary>Why the link ended, or null while it is up.</summary>
    public string? CloseReason => Volatile.Read(ref _closeReason);

    /// <summary>RFC 2812 §3.1: NICK then USER; RPL_WELCOME (001, §5.1) says the registration is complete.</summary>
    public async Task RegisterAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        string? refusal;
        try
        {
            await WriteAsync(Encoding.ASCII.GetBytes($"NICK {Nick}\r\nUSER u 0 * :bench\r\n"), null, deadline.Token).ConfigureAwait(false);
            refusal = await _welcomed.Task.WaitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"{Nick} was not welcomed (numeric 001) within {timeout.TotalSeconds:0} s.");
        }

        if (refusal is not null)
        {
            throw new IOException($"{Nick} could not register: {refusal}");
        }
    }

    /// <summary>
    /// Writes <paramref name="head"/> as it is, or with <paramref name="text"/> and CR LF after it, in one socket
    /// write. <paramref name="cancellationToken"/> cancels the wait for the lock, never a write in progress: half a
    /// line would corrupt the next one. Disposal ends a write the server never drains.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> head, string? text, CancellationToken cancellationToken)
    {
        if (CloseReason is { } reason)
        {
            throw new IOException($"{Nick} is closed: {reason}");
        }

        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var line = text is null ? head : Compose(head.Span, text);
            await _stream.WriteAsync(line, _closing.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException || (e is OperationCanceledException && _closing.IsCancellationRequested))
        {
            throw new IOException($"{Nick} is closed: {CloseReason ?? e.Message}", e);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private ReadOnlyMemory<byte> Compose(ReadOnlySpan<byte> head, string text)
    {
        // RFC 2812 §2.3: the 512 bytes of the line the receiver gets include the prefix the server puts before
        // ours, and InspIRCd cuts what is over; a body that would not arrive whole is refused here instead.
        var buffer = _writeBuffer.AsSpan(0, MaxLineBytes - _relayPrefixBytes);
        head.CopyTo(buffer);
        if (!Encoding.UTF8.TryGetBytes(text, buffer[head.Length..^2], out var written))
        {
            throw new ArgumentException(
                $"A {Encoding.UTF8.GetByteCount(text)}-byte body does not fit one IRC line: at most {buffer.Length - head.Length - 2} bytes here (RFC 2812 §2.3).",
                nameof(text));
        }

        // RFC 2812 §2.3.1: the trailing parameter may hold neither CR, LF nor NUL.
        if (buffer.Slice(head.Length, written).IndexOfAny((byte)'\r', (byte)'\n', (byte)0) >= 0)
        {
            throw new ArgumentException("An IRC message cannot carry CR, LF or NUL (RFC 2812 §2.3.1).", nameof(text));
        }

        var end = head.Length + written;
        buffer[end] = (byte)'\r';
        buffer[end + 1] = (byte)'\n';
        return _writeBuffer.AsMemory(0, end + 2);
    }

    private async Task ReadLoopAsync()
    {
        var reason = "the server closed the connection";
        try
        {
            while (true)
            {
                var result = await _reader.ReadAsync(_closing.Token).ConfigureAwait(false);
                var buffer = result.Buffer;
                while (TryTakeLine(ref buffer, out var line))
                {
                    if (Handle(line) is { } reply)
                    {
                        await WriteAsync(reply, null, _closing.Token).ConfigureAwait(false);
                    }
                }

                if (buffer.Length > MaxUnterminatedBytes)
                {
                    throw new InvalidDataException($"{buffer.Length} bytes arrived without a line end.");
                }

                _reader.AdvanceTo(buffer.Start, result.Buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (_closing.IsCancellationRequested)
        {
            reason = "closed by the load generator";
        }
        catch (Exception e)
        {
            reason = $"{e.GetType().Name}: {e.Message}";
        }
        finally
        {
            await _reader.CompleteAsync().ConfigureAwait(false);
            reason = Volatile.Read(ref _serverError) is { } error ? $"{reason} after {error}" : reason;
            Interlocked.CompareExchange(ref _closeReason, reason, null);
            _welcomed.TrySetResult(reason);
        }
    }

    private static bool TryTakeLine(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> line)
    {
        if (buffer.PositionOf((byte)'\n') is not { } end)
        {
            line = default;
            return false;
        }

        line = buffer.Slice(0, end);
        buffer = buffer.Slice(buffer.GetPosition(1, end));
        return true;
    }

    /// <summary>Acts on one line (RFC 2812 §2.3.1 grammar); returns the reply to send, if any.</summary>
    private byte[]? Handle(in ReadOnlySequence<byte> sequence)
    {
        if (sequence.Length > _lineBuffer.Length)
        {
            throw new InvalidDataException($"A {sequence.Length}-byte line arrived.");
        }

        ReadOnlySpan<byte> line;
        if (sequence.IsSingleSegment)
        {
            line = sequence.FirstSpan;
        }
        else
        {
            sequence.CopyTo(_lineBuffer);
            line = _lineBuffer.AsSpan(0, (int)sequence.Length);
        }

        if (line.Length > 0 && line[^1] == '\r')
        {
            line = line[..^1];
        }

        // IRCv3 tags (never asked for here, so never expected), then the prefix: neither matters to the relay.
        if (line.Length > 0 && line[0] == '@')
        {
            line = AfterSpace(line);
        }

        if (line.Length > 0 && line[0] == ':')
        {
            line = AfterSpace(line);
        }

        var space = line.IndexOf((byte)' ');
        var command = space < 0 ? line : line[..space];
        var parameters = space < 0 ? [] : line[(space + 1)..];
        if (command.SequenceEqual("PRIVMSG"u8))
        {
            // <target> then the text: a trailing parameter after " :", or one middle parameter when the server
            // leaves the colon out (RFC 2812 §2.3.1 allows that when the text has no space).
            if (_delivered is not null)
            {
                var text = AfterSpace(parameters);
                _delivered(_index, Encoding.UTF8.GetString(text.Length > 0 && text[0] == ':' ? text[1..] : text));
            }

            return null;
        }

        if (command.SequenceEqual("PING"u8))
        {
            // RFC 2812 §3.7.3: PONG carries the PING's parameters back.
            return [.. "PONG "u8, .. parameters, .. "\r\n"u8];
        }

        if (command.SequenceEqual("001"u8))
        {
            // RFC 2812 §5.1: RPL_WELCOME ends with <nick>!<user>@<host>, the prefix the server will put on our
            // messages: ":" + it + " " counts against the receiver's 512 bytes.
            var mask = line[(line.LastIndexOf((byte)' ') + 1)..];
            _relayPrefixBytes = mask.Contains((byte)'!') && mask.Contains((byte)'@') ? mask.Length + 2 : DefaultRelayPrefixBytes;
            _welcomed.TrySetResult(null);
        }
        else if (command.SequenceEqual("ERROR"u8))
        {
            // RFC 2812 §3.7.4: the server's last word before it closes the link (a flood kill, a QUIT's answer).
            Volatile.Write(ref _serverError, Encoding.UTF8.GetString(line));
            _welcomed.TrySetResult(_serverError);
        }
        else if (IsRegistrationRefusal(command))
        {
            _welcomed.TrySetResult(Encoding.UTF8.GetString(line));
        }

        return null;
    }

    // RFC 2812 §5.2: ERR_ERRONEUSNICKNAME, ERR_NICKNAMEINUSE, ERR_NICKCOLLISION, ERR_UNAVAILRESOURCE,
    // ERR_YOUREBANNEDCREEP.
    private static bool IsRegistrationRefusal(ReadOnlySpan<byte> command) =>
        command.SequenceEqual("432"u8) || command.SequenceEqual("433"u8) || command.SequenceEqual("436"u8) ||
        command.SequenceEqual("437"u8) || command.SequenceEqual("465"u8);

    private static ReadOnlySpan<byte> AfterSpace(ReadOnlySpan<byte> span)
    {
        var space = span.IndexOf((byte)' ');
        return space < 0 ? [] : span[(space + 1)..];
    }

    /// <summary>QUIT (RFC 2812 §3.1.7), then a bounded wait for the server to close the link, then close it here.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Only a registered client says goodbye; one whose registration failed or was cancelled just closes. The
        // same deadline ends the QUIT write, the wait for the server's close, and the read loop.
        if (CloseReason is null && _welcomed.Task is { IsCompletedSuccessfully: true, Result: null })
        {
            _closing.CancelAfter(QuitTimeout);
            try
            {
                await WriteAsync(Quit, null, _closing.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException)
            {
            }
        }
        else
        {
            await _closing.CancelAsync().ConfigureAwait(false);
        }

        await _reading.ConfigureAwait(false);
        await _stream.DisposeAsync().ConfigureAwait(false);
        _closing.Dispose();
    }
}
