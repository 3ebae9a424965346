# HTML error pages for browsers (English). The stable code and the server's
# sentence are shown as they are; these words frame them.

error-page-title = Error { $status } · govledger
error-page-code = Code
error-page-detail = What the server said
error-page-back = Back to the dashboard
error-page-bad-request = The request cannot be answered as it is.
error-page-unauthorized = You are not signed in, or your token is unknown, expired or revoked.
error-page-unauthorized-hint = Open the link with ?token=… that your coordinator gave you (govledger token issue).
error-page-forbidden = Your token does not allow this.
error-page-not-found = There is nothing here.
error-page-busy = The server is busy; try again in a moment.
error-page-server = Something went wrong on the server; it has been logged.
