using System.Net;
using System.Net.Sockets;
using Parley.Client;
using Parley.Client.Direct;
using Parley.Client.EndToEnd;
using Parley.Protocol;
using Parley.Protocol.Messages;

namespace Parley.Cli.ChatClient;

/// <summary>
/// Direct calls (issue #6; seed 000): after log-on the client listens for terminals calling it; <c>/call bob</c> (or,
/// in <c>--direct</c> mode, typing bob at "Enter destination user ID:") looks bob up on the server and connects to
/// him directly, and from then on the server is idle. Ctrl-C ends a call. The exact texts are seed 000's. Calls coming
/// in (the listener and the destination's handshake) are in <c>ChatApp.DirectIncoming.cs</c>.
/// </summary>
/// <remarks>
/// Nothing a remote terminal does may stall this app's one loop: incoming handshakes run beside it (at most
/// <see cref="MaxHandshakes"/> at once), lines to the peer are queued (<see cref="DirectLink.TrySend"/>), and lines
/// from the peer wait for room (<see cref="CallCredits"/>) before they are queued here.
/// </remarks>
internal sealed partial class ChatApp
{
    /// <summary>Lines from the peer queued for the screen before the link stops being read.</summary>
    private const int CallCredits = 256;

    private ActiveCall? _call;
    private int _inCall;
    private CancellationTokenSource? _dialling;
    private bool _awaitingLogin;

    /// <summary>Seed 000's terminal (<c>parley chat --direct</c>): its prompts and texts, and a typed line is whom to call.</summary>
    private bool Seed000 => direct;

    /// <summary>
    /// Ctrl-C, from the signal handler's thread: cancels a call being dialled, or ends the call in progress (seed 000:
    /// "CTRL-C connection ended"), and returns true; false when there is neither, so the caller quits the program.
    /// </summary>
    public bool Interrupt()
    {
        if (Volatile.Read(ref _dialling) is { } dialling)
        {
            dialling.Cancel();
            return true;
        }

        return Volatile.Read(ref _inCall) == 1 && _inbox.Writer.TryWrite(new HangUp());
    }

    /// <summary>Seed 000: "Login:" — the next line is the user ID (when --user did not give it).</summary>
    public void AskForLogin()
    {
        _awaitingLogin = true;
        console.WriteLine("Login:");
    }

    /// <summary>/call bob, or a user ID typed at seed 000's "Enter destination user ID:". Ctrl-C while dialling cancels it.</summary>
    private async Task CallAsync(ParleyConnection connection, string peer)
    {
        if (_call is not null)
        {
            console.WriteLine($"You are already in a direct chat with {_call.Link.PeerId}; press Ctrl-C to end it.");
            return;
        }

        if (_e2e is not { } e2e)
        {
            console.WriteLine($"Direct calls need end-to-end encryption, which is not available ({Display.Clean(_e2eUnavailable ?? "not logged on")}).");
            return;
        }

        if (ClientIds.Comparer.Equals(peer, connection.ClientId))
        {
            console.WriteLine("You cannot call yourself.");
            return;
        }

        using var dialling = new CancellationTokenSource();
        Volatile.Write(ref _dialling, dialling);
        try
        {
            var lookup = await connection.LookupAsync(peer, dialling.Token).ConfigureAwait(false);

            // The reply must be about the user asked for: a server that answers with someone else's address is caught here.
            if (lookup.Status != LookupStatus.Success || !ClientIds.Comparer.Equals(lookup.UserId, peer)
                || !IPAddress.TryParse(lookup.Address, out var address) || lookup.Port is < 1 or > 65535)
            {
                console.WriteLine($"{Display.Clean(peer)} was not found (NOTFOUND): not logged on, or not taking direct calls.");
                return;
            }

            var contact = await e2e.ContactAsync(lookup.UserId, cancellationToken: dialling.Token).ConfigureAwait(false);
            if (contact.Trust == KeyTrust.Changed)
            {
                WarnKeyChanged(contact);
                console.WriteLine($"Not calling {contact.ClientId}: their key changed. /verify {contact.ClientId}, then /accept {contact.ClientId}.");
                return;
            }

            if (contact.Current is not { } key || key.Fingerprint != lookup.Fingerprint)
            {
                console.WriteLine($"Not calling {contact.ClientId}: the server's lookup and its key directory disagree about their key.");
                return;
            }

            var link = await DirectLink.CallAsync(new IPEndPoint(address, lookup.Port), e2e, contact.ClientId, key, options, dialling.Token).ConfigureAwait(false);
            Established(link, Seed000 ? "Connection established, type your messages" : $"Connection established with {contact.ClientId}, type your messages");
        }
        catch (OperationCanceledException)
        {
            console.WriteLine("Call cancelled.");
        }
        catch (Exception e) when (e is DirectCallException or ParleyClientException)
        {
            console.WriteLine(Display.Clean(e.Message));
        }
        finally
        {
            Volatile.Write(ref _dialling, null);
        }
    }

    private void Established(DirectLink link, string announcement)
    {
        var call = new ActiveCall(link);
        _call = call;
        Volatile.Write(ref _inCall, 1);
        console.WriteLine(announcement);
        _ = PumpCallAsync(call);
        UpdatePrompt();
    }

    /// <summary>The peer's lines, each waiting for room (a flooding peer is slowed to the screen's pace, not buffered).</summary>
    private async Task PumpCallAsync(ActiveCall call)
    {
        try
        {
            while (await call.Link.ReceiveAsync(call.Ended.Token).ConfigureAwait(false) is { } text)
            {
                await call.Credits.WaitAsync(call.Ended.Token).ConfigureAwait(false);
                _inbox.Writer.TryWrite(new CallLine(call, text));
            }
        }
        catch (OperationCanceledException)
        {
            return; // hung up here
        }

        _inbox.Writer.TryWrite(new CallLine(call, null));
    }

    /// <summary>A line from the peer (printed as seed 000 prints it in --direct mode), or the end of the call.</summary>
    private void OnCallLine(CallLine line)
    {
        if (!ReferenceEquals(line.Call, _call))
        {
            return; // a call already ended here
        }

        if (line.Text is not { } text)
        {
            EndCall();
            return;
        }

        line.Call.Credits.Release();
        _lastInput = Environment.TickCount64; // a conversation in progress is activity, whichever side is typing
        console.WriteLine(Seed000 ? Display.Clean(text) : Display.Line(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), "[call]", line.Call.Link.PeerId, text));
    }

    /// <summary>Ctrl-C here or at the other end: "Connection ended", then back to seed 000's prompt (not when the <paramref name="program"/> ends).</summary>
    private void EndCall(bool program = false)
    {
        if (_call is not { } call)
        {
            return;
        }

        _call = null;
        Volatile.Write(ref _inCall, 0);
        call.Ended.Cancel();
        _ = call.Link.DisposeAsync().AsTask();
        console.WriteLine("Connection ended");
        if (Seed000 && !program)
        {
            console.WriteLine("Enter destination user ID:");
        }

        UpdatePrompt();
    }

    private void SayInCall(string text)
    {
        if (System.Text.Encoding.UTF8.GetByteCount(text) > DirectLink.MaxTextBytes)
        {
            console.WriteLine($"That line is longer than {DirectLink.MaxTextBytes} bytes; it was not sent.");
        }
        else if (!_call!.Link.TrySend(text))
        {
            console.WriteLine($"{_call.Link.PeerId}'s terminal is not reading; that line was not sent.");
        }
    }

    /// <summary>A call in progress: its link, the room left for its lines on this app's queue, and its end.</summary>
    private sealed class ActiveCall(DirectLink link)
    {
        public DirectLink Link { get; } = link;

        public SemaphoreSlim Credits { get; } = new(CallCredits, CallCredits);

        public CancellationTokenSource Ended { get; } = new();
    }

    private sealed record CallLine(ActiveCall Call, string? Text);

    private sealed record HangUp;
}
