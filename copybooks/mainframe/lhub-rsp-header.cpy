      * LHUB.RSP.<core>.D<yymmdd>.S<nn>: the mainframe's response to the
      * request file of the same core, date and sequence.
      * RECFM=FB LRECL=100, same conventions as the request.
      * Header record (REC-TYPE 'H'); batch/response-header-record.ts.
       01  RSP-HEADER-RECORD.
      *        1       'H'
           05  REC-TYPE            PIC X(1).
      *        2-45    dataset name of the REQUEST file this answers
           05  FILE-NAME           PIC X(44).
      *        46      A accepted, R refused as a whole
           05  FILE-STATUS         PIC X(1).
      *        47-50   why a file was refused (spaces when accepted)
           05  FILE-REASON         PIC X(4).
      *        51-64   YYYYMMDDHHMMSS, mainframe time
           05  PROCESSED-AT        PIC 9(14).
      *        65-100
           05  FILLER              PIC X(36).
