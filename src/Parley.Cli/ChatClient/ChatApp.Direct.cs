using System.Net;
using System.Net.Sockets;
using Parley.Client;
using Parley.Client.Direct;
using Parley.Client.EndToEnd;
using Parley.Protocol.Messages;

namespace Parley.Cli.ChatClient;

/// <summary>
/// Direct calls (issue #6; seed 000): after log-on the client listens for terminals calling it; <c>/call bob</c> (or,
/// in <c>--direct</c> mode, typing bob at "Enter destination user ID:") looks bob up on the server and connects to
/// him directly, and from then on the server is idle. Ctrl-C ends a call. The exact texts are seed 000's.
/// </summary>
internal sealed partial class ChatApp
{
    private TcpListener? _listener;
    private DirectLink? _call;
    private int _inCall;
    private bool _awaitingLogin;

    /// <summary>Seed 000's terminal (<c>parley chat --direct</c>): its prompts and texts, and a typed line is whom to call.</summary>
    private bool Seed000 => direct;

    /// <summary>
    /// Ctrl-C, from the signal handler's thread: ends the call if there is one (seed 000: "CTRL-C connection ended")
    /// and returns true; false when there is none, so the caller quits the program as Ctrl-C otherwise does.
    /// </summary>
    public bool Interrupt() => Volatile.Read(ref _inCall) == 1 && _inbox.Writer.TryWrite(new HangUp());

    /// <summary>Seed 000: "Login:" — the next line is the user ID (when --user did not give it).</summary>
    public void AskForLogin()
    {
        _awaitingLogin = true;
        console.WriteLine("Login:");
    }

    /// <summary>After log-on: listen for direct calls and tell the server the port (LISTEN). Needs the identity key.</summary>
    private async Task StartListeningAsync(ParleyConnection connection)
    {
        if (options.ListenPort < 0 || _e2e is null)
        {
            return;
        }

        var address = options.LocalAddress ?? IPAddress.Any;
        TcpListener listener;
        try
        {
            listener = Listen(address, options.ListenPort);
        }
        catch (SocketException) when (options.ListenPort != 0)
        {
            listener = Listen(address, 0);
            console.WriteLine($"Port {options.ListenPort} is in use; direct calls reach you on port {((IPEndPoint)listener.LocalEndpoint).Port} instead.");
        }
        catch (SocketException e)
        {
            console.WriteLine($"Direct calls to you are off: cannot listen on {address} ({e.SocketErrorCode}).");
            return;
        }

        _listener = listener;
        _ = PumpCallsAsync(connection, listener);
        await SendAsync(connection, new Listen(((IPEndPoint)listener.LocalEndpoint).Port)).ConfigureAwait(false);

        static TcpListener Listen(IPAddress address, int port)
        {
            var listener = new TcpListener(address, port);
            listener.Start();
            return listener;
        }
    }

    /// <summary>
    /// At log-off or when the link to the server ends: no more calls in. A call in progress goes on: it never
    /// needed the server (seed 000: "once the communication between terminals is established, the server is idle").
    /// </summary>
    private void StopListening()
    {
        _listener?.Stop();
        _listener = null;
    }

    private async Task PumpCallsAsync(ParleyConnection connection, TcpListener listener)
    {
        try
        {
            while (true)
            {
                var tcp = await listener.AcceptTcpClientAsync().ConfigureAwait(false);
                if (!_inbox.Writer.TryWrite(new IncomingCall(connection, tcp)))
                {
                    tcp.Dispose();
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // Stopped at log-off.
        }
    }

    /// <summary>
    /// A terminal connects. Busy: seed 000's "busy". Otherwise the handshake runs here, on the app's one task, with
    /// every step bounded by --direct-timeout; the initiator is vetted as the seed says, plus its key.
    /// </summary>
    private async Task OnIncomingCallAsync(IncomingCall incoming)
    {
        if (!ReferenceEquals(incoming.Connection, _connection) || _e2e is not { } e2e || _call is not null)
        {
            _ = DirectLink.RefuseAsync(incoming.Tcp, ConnectRefusals.Busy, options, CancellationToken.None);
            return;
        }

        var connection = incoming.Connection;
        try
        {
            var link = await DirectLink.AnswerAsync(incoming.Tcp, e2e, (initiator, from, ct) => CheckInitiatorAsync(connection, e2e, initiator, from, ct),
                options, CancellationToken.None).ConfigureAwait(false);
            Established(link, $"Connection received from user {link.PeerId}, type your messages");
        }
        catch (Exception e) when (e is DirectCallException or IOException or SocketException or ParleyClientException)
        {
            console.WriteLine(Display.Clean(e.Message));
        }
    }

    /// <summary>
    /// Seed 000: "Bianca sends a Lookup Request to the server to verify Ali's IP address and Ali's encryption key."
    /// The address must be the one the initiator logged on from, and the key the one this user trusts for them.
    /// </summary>
    private static async Task<InitiatorCheck> CheckInitiatorAsync(ParleyConnection connection, EndToEndSession e2e, string initiator, IPAddress from,
        CancellationToken cancellationToken)
    {
        var lookup = await connection.LookupAsync(initiator, cancellationToken).ConfigureAwait(false);
        if (lookup.Status != LookupStatus.Success)
        {
            return new InitiatorCheck(null, ConnectRefusals.NotLoggedOn);
        }

        if (!IPAddress.TryParse(lookup.Address, out var registered) || !registered.Equals(from))
        {
            return new InitiatorCheck(null, ConnectRefusals.AddressMismatch);
        }

        var contact = await e2e.ContactAsync(initiator, cancellationToken: cancellationToken).ConfigureAwait(false);
        return contact is { Trust: KeyTrust.Trusted or KeyTrust.Verified, Current: { } key } && key.Fingerprint == lookup.Fingerprint
            ? new InitiatorCheck(key, null)
            : new InitiatorCheck(null, ConnectRefusals.KeyNotTrusted);
    }

    /// <summary>/call bob, or a user ID typed at seed 000's "Enter destination user ID:".</summary>
    private async Task CallAsync(ParleyConnection connection, string peer)
    {
        if (_call is not null)
        {
            console.WriteLine($"You are already in a direct chat with {_call.PeerId}; press Ctrl-C to end it.");
            return;
        }

        if (_e2e is not { } e2e)
        {
            console.WriteLine($"Direct calls need end-to-end encryption, which is not available ({Display.Clean(_e2eUnavailable ?? "not logged on")}).");
            return;
        }

        try
        {
            var lookup = await connection.LookupAsync(peer).ConfigureAwait(false);
            if (lookup.Status != LookupStatus.Success || !IPAddress.TryParse(lookup.Address, out var address))
            {
                console.WriteLine($"{Display.Clean(peer)} was not found (NOTFOUND): not logged on, or not taking direct calls.");
                return;
            }

            var contact = await e2e.ContactAsync(lookup.UserId).ConfigureAwait(false);
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

            var link = await DirectLink.CallAsync(new IPEndPoint(address, lookup.Port), e2e, contact.ClientId, key, options, CancellationToken.None).ConfigureAwait(false);
            Established(link, "Connection established, type your messages");
        }
        catch (Exception e) when (e is DirectCallException or ParleyClientException)
        {
            console.WriteLine(Display.Clean(e.Message));
        }
    }

    private void Established(DirectLink link, string announcement)
    {
        _call = link;
        Volatile.Write(ref _inCall, 1);
        console.WriteLine(announcement);
        _ = PumpCallAsync(link);
        UpdatePrompt();
    }

    private async Task PumpCallAsync(DirectLink link)
    {
        while (await link.ReceiveAsync().ConfigureAwait(false) is { } text)
        {
            _inbox.Writer.TryWrite(new CallLine(link, text));
        }

        _inbox.Writer.TryWrite(new CallLine(link, null));
    }

    /// <summary>A line from the peer (printed as seed 000 prints it in --direct mode), or the end of the call.</summary>
    private void OnCallLine(CallLine line)
    {
        if (!ReferenceEquals(line.Link, _call))
        {
            return; // a call already ended here
        }

        if (line.Text is { } text)
        {
            console.WriteLine(Seed000 ? Display.Clean(text) : Display.Line(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), "[call]", line.Link.PeerId, text));
            return;
        }

        EndCall();
    }

    /// <summary>Ctrl-C here or at the other end: "Connection ended", then back to seed 000's prompt.</summary>
    private void EndCall()
    {
        if (_call is not { } call)
        {
            return;
        }

        _call = null;
        Volatile.Write(ref _inCall, 0);
        _ = call.DisposeAsync().AsTask();
        console.WriteLine("Connection ended");
        if (Seed000)
        {
            console.WriteLine("Enter destination user ID:");
        }

        UpdatePrompt();
    }

    private async Task SayInCallAsync(string text)
    {
        try
        {
            await _call!.SendAsync(text).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            EndCall();
        }
    }

    private sealed record IncomingCall(ParleyConnection Connection, TcpClient Tcp);

    private sealed record CallLine(DirectLink Link, string? Text);

    private sealed record HangUp;
}
