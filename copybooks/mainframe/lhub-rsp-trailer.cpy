      * Trailer record of the response (REC-TYPE 'T');
      * batch/response-trailer-record.ts. The posted totals are the sums
      * of the request AMOUNT of the details answered P.
       01  RSP-TRAILER-RECORD.
      *        1       'T'
           05  REC-TYPE            PIC X(1).
      *        2-10    details answered P
           05  POSTED-COUNT        PIC 9(9).
      *        11-19   details answered R
           05  REJECTED-COUNT      PIC 9(9).
      *        20-28   posted PEN, 9 bytes
           05  POSTED-PEN          PIC S9(15)V99 COMP-3.
      *        29-37   posted USD, 9 bytes
           05  POSTED-USD          PIC S9(15)V99 COMP-3.
      *        38-100
           05  FILLER              PIC X(63).
