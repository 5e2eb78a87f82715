using System.Text;
using Parley.Client;
using Parley.Protocol.Messages;
using Parley.Protocol.Security.EndToEnd;

namespace Parley.Cli.ChatClient;

/// <summary>What each typed command does.</summary>
internal sealed partial class ChatApp
{
    private async Task OnInputAsync(UserInput input, CancellationToken cancellationToken)
    {
        switch (input)
        {
            case UserInput.Empty:
                return;
            case UserInput.Help:
                console.WriteLine(UserInput.HelpText);
                return;
            case UserInput.Quit:
                _quit = true;
                return;
            case UserInput.Exit exit:
                await ExitAsync(exit.Seed003).ConfigureAwait(false);
                return;
            case UserInput.HangUp when _call is null:
                console.WriteLine("You are not in a direct call.");
                return;
            case UserInput.HangUp:
                // A call needs no server (seed 000): it can be ended logged off or while reconnecting too.
                EndCall();
                return;
            case UserInput when _connection is null && _reconnecting is { } reconnection:
                OnInputWhileReconnecting(input, reconnection);
                return;
            case UserInput.LogOn logOn:
                await LogOnAsync(logOn.ClientId, cancellationToken).ConfigureAwait(false);
                return;
            case UserInput.SignUp signUp:
                await SignUpAsync(signUp.ClientId, signUp.Invite, cancellationToken).ConfigureAwait(false);
                return;
        }

        if (_connection is not { } connection)
        {
            console.WriteLine(input is UserInput.Unknown u ? Unknown(u.Text) : "You are not logged on. Type \"Log on\" first.");
            return;
        }

        switch (input)
        {
            case UserInput.LogOff:
                EndChatLocally();
                await LogOffAsync().ConfigureAwait(false);
                console.WriteLine("Logged off");
                break;
            case UserInput.StartChat start when InChat:
                console.WriteLine($"You are already chatting with {_peer}; type \"End chat\" first.");
                break;
            case UserInput.StartChat start:
                await SendAsync(connection, new ChatRequest(start.ClientId)).ConfigureAwait(false);
                break;
            case UserInput.EndChat when !InChat:
                console.WriteLine("You are not in a chat.");
                break;
            case UserInput.EndChat:
                await SendAsync(connection, new EndRequest(_sessionId!)).ConfigureAwait(false);
                EndChatLocally();
                UpdatePrompt();
                break;
            case UserInput.History history:
                await SendAsync(connection, new HistoryReq(history.ClientId)).ConfigureAwait(false);
                break;
            case UserInput.Say say when !InChat && View is InputView.Talk or InputView.Room:
                await SayAsync(connection, say.Text).ConfigureAwait(false);
                break;
            case UserInput.Say when !InChat:
                console.WriteLine("You are not in a chat, a conversation or a room; start one with \"Chat <client-id>\", /talk <id> or /join #room.");
                break;
            case UserInput.Say say:
                await SendChatAsync(connection, say.Text).ConfigureAwait(false);
                break;
            case UserInput.List list:
                await SendAsync(connection, new ListReq(list.OnlineOnly)).ConfigureAwait(false);
                break;
            case UserInput.ChangePassword when console.IsInteractive:
                // On a terminal the new password is always typed without echo, even when PARLEY_PASSWORD gave the current one.
                var current = scriptPassword ?? await console.ReadSecretAsync("Current password: ", cancellationToken).ConfigureAwait(false);
                if (await TypeNewPasswordAsync("New password: ", cancellationToken).ConfigureAwait(false) is { } next)
                {
                    await ChangePasswordAsync(current, next, cancellationToken).ConfigureAwait(false);
                }

                break;
            case UserInput.ChangePassword:
                _nextLineIsNewPassword = true;
                break;
            case UserInput.Unknown unknown:
                console.WriteLine(Unknown(unknown.Text));
                break;
            case UserInput.Call call:
                await CallAsync(connection, call.ClientId).ConfigureAwait(false);
                break;
            case UserInput.Verify or UserInput.AcceptKey:
                await OnSecurityInputAsync(input).ConfigureAwait(false);
                break;
            default:
                await OnMessagingInputAsync(connection, input).ConfigureAwait(false);
                break;
        }
    }

    /// <summary>Seed 003's EX (with its two lines) and seed 004's EXIT: log off and end the program.</summary>
    private async Task ExitAsync(bool seed003)
    {
        EndChatLocally();
        if (seed003)
        {
            console.WriteLine("Sending logout command to server");
        }

        StopReconnecting();
        await LogOffAsync().ConfigureAwait(false);
        console.WriteLine(seed003 ? "successfully logged out. Closing client side socket and ending program." : "Logged off");
        _quit = true;
    }

    private async Task LogOnAsync(string? requestedId, CancellationToken cancellationToken)
    {
        if (_connection is not null)
        {
            console.WriteLine($"You are already logged on as {_connection.ClientId}.");
            return;
        }

        var clientId = requestedId ?? defaultUser;
        if (clientId is null)
        {
            console.WriteLine("Which client ID? Type \"Log on <client-id>\" or start with --user.");
            return;
        }

        // Seed 003: "allow to try again", three attempts in all; the server's lockout enforces the same count.
        for (var attempt = 1; attempt <= MaxPasswordAttempts; attempt++)
        {
            var password = await AskSecretAsync(Seed000 ? "Enter passcode on keypad: " : $"Password for {clientId}: ", cancellationToken).ConfigureAwait(false);
            if (string.IsNullOrEmpty(password))
            {
                console.WriteLine("No password given: type it at the prompt, or use --password-stdin or PARLEY_PASSWORD.");
                return;
            }

            var failure = await TryLogOnAsync(clientId, password, cancellationToken).ConfigureAwait(false);
            if (failure is not { Failure: ClientFailure.AuthenticationFailed, RetryAfter: null } || !console.IsInteractive || scriptPassword is not null)
            {
                return;
            }

            // Seed 003: an unknown ID is offered a new password instead of another try (when the server takes sign-ups).
            if (attempt == 1 && await OfferSignUpAsync(clientId, cancellationToken).ConfigureAwait(false))
            {
                return;
            }
        }
    }

    /// <summary>Logs on and reports the outcome; returns the failure, or null once connected.</summary>
    private async Task<ParleyClientException?> TryLogOnAsync(string clientId, string password, CancellationToken cancellationToken)
    {
        PasswordKey? key = new(password);
        try
        {
            var connection = await ParleyConnection.LogOnAsync(options, clientId, key, cancellationToken).ConfigureAwait(false);
            KeepLogOnKey(ref key);
            _connection = connection;
            _lastInput = Environment.TickCount64;
            _ = PumpEventsAsync(connection);

            // Before "Connected": a peer told we are online can already find our published key.
            await StartEncryptionAsync(connection, password, cancellationToken).ConfigureAwait(false);
            console.WriteLine(Seed000 ? "Logged in." : "Connected");
            LoggedOn?.Invoke(connection.ClientId);
            ReportEncryption();
            await OnConnectedAsync(connection).ConfigureAwait(false);
            await StartListeningAsync(connection).ConfigureAwait(false);
            if (Seed000)
            {
                console.WriteLine("Enter destination user ID:");
            }

            UpdatePrompt();
            return null;
        }
        catch (ParleyClientException e)
        {
            // The text may quote an unauthenticated datagram or frame (AUTH_FAIL, ERROR): never let it drive the terminal.
            console.WriteLine(Display.Clean(e.Message));
            return e;
        }
        finally
        {
            key?.Dispose();
        }
    }

    /// <summary>
    /// Whether <paramref name="text"/> is over the server's limit (said to the user, as the server would refuse it).
    /// An <paramref name="encrypted"/> message's limit is lower: its envelope must fit (docs/PROTOCOL.md §12.3).
    /// </summary>
    private bool IsTooLong(ParleyConnection connection, string text, bool encrypted)
    {
        var limit = encrypted ? SealedMessage.MaxTextBytes(connection.MaxMessageBytes) : connection.MaxMessageBytes;
        if (Encoding.UTF8.GetByteCount(text) <= limit)
        {
            return false;
        }

        console.WriteLine($"That message is longer than the limit of {limit} bytes{(encrypted ? " (what fits in the server's limit once encrypted)" : "")}; it was not sent.");
        return true;
    }

    /// <summary>Sends <paramref name="message"/>; false (with the reason printed) if it could not be.</summary>
    private async Task<bool> SendAsync(ParleyConnection connection, ParleyMessage message)
    {
        try
        {
            await connection.SendAsync(message).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
        {
            console.WriteLine("Could not send: the connection to the server is lost.");
        }
        catch (Protocol.ProtocolException e)
        {
            console.WriteLine($"Could not send: {Display.Clean(e.Message)}");
        }

        return false;
    }

    private static string Unknown(string text) => $"Unknown command: {Display.Clean(text)}. Type /help for the list.";
}
