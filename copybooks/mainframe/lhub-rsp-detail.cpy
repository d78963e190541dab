      * Detail record of the response (REC-TYPE 'D'), one per payment of
      * an accepted request file; batch/response-detail-record.ts.
       01  RSP-DETAIL-RECORD.
      *        1       'D'
           05  REC-TYPE            PIC X(1).
      *        2-37    the hub's payment id, as sent
           05  PAYMENT-ID          PIC X(36).
      *        38      P posted, R rejected
           05  RESULT              PIC X(1).
      *        39-42   why a payment was rejected (spaces when posted)
           05  REASON              PIC X(4).
      *        43-58   the general-ledger posting reference
           05  POSTING-REF         PIC X(16).
      *        59-100
           05  FILLER              PIC X(42).
